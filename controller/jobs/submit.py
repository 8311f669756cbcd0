"""Turning a validated submission into a planned job (the I/O around `jobspec` and `planning`)."""

from __future__ import annotations

import time
from typing import Any

import peewee as pw
from aiohttp import web

from controller.accounts.models import Account
from controller.agents.roster import ROSTER
from controller.artifacts.refs import validate_payload_artifacts
from controller.billing import accounts as billing_accounts
from controller.billing import holds, pricing
from controller.billing.errors import Shortfall
from controller.billing.service import refuse
from controller.core.errors import ComputalotError, Conflict, NoCapableWorkers, ValidationFailed, field_error
from controller.core.web import SETTINGS, STORE, not_found
from controller.jobs import outcomes, presets
from controller.jobs import records as jobs
from controller.jobs.callbacks import private_address
from controller.jobs.dispatcher import DISPATCHER
from controller.jobs.fields import FieldErrors
from controller.jobs.kinds import kind_of, plan_job
from controller.jobs.limits import check_command
from controller.jobs.models import Job
from controller.jobs.planning import Plan
from controller.jobs.spec import JobSpec, parse_job_spec, spec_of
from controller.jobs.views import job_json
from controller.projects.models import Project, Revision
from controller.recipes.submit import check_recipe_job, find_recipe, recipe_queue_key

#: Jobs accepted by one `POST /api/v1/jobs/batch`.
MAX_BATCH = 200
#: Characters of an `Idempotency-Key` (the column's width).
MAX_IDEMPOTENCY_KEY_CHARS = 200


async def submit(
    app: web.Application, account: Account, body: Any, *, recipe: str | None = None, idempotency_key: str | None = None
) -> tuple[Job, bool]:
    """Validate, plan and store a job; returns it and whether it is new (False for an idempotent repeat).

    Raises:
      ValidationFailed, InvalidFanOut, NotFound, Conflict, NoCapableWorkers, InsufficientBalance: nothing is
        created.
    """
    spec = parse_job_spec(body, recipe=recipe)
    if idempotency_key and len(idempotency_key) > MAX_IDEMPOTENCY_KEY_CHARS:
        message = f"must be at most {MAX_IDEMPOTENCY_KEY_CHARS} characters"
        raise ValidationFailed([field_error("Idempotency-Key", message)])
    if idempotency_key:
        existing = jobs.find_idempotent(account, idempotency_key)
        if existing is not None:
            return _same_submission(existing, spec), False
    target = _target(app, account, spec)
    for where, payload in kind_of(spec.type).payloads(spec):  # every payload the user sent, by its field
        validate_payload_artifacts(account, payload, where)
    _check_dependencies(account, spec)
    if spec.callback_url and not app[SETTINGS].allow_private_callbacks:
        internal = await app[STORE].read(private_address, spec.callback_url)
        if internal:
            raise ValidationFailed(
                [field_error("callback_url", f"must reach a public address; it resolves to {internal}")]
            )
    plan = plan_job(spec)
    limit = app[SETTINGS].max_tasks_per_job
    if plan.task_count > limit:
        raise ValidationFailed([field_error("fan_out", f"plans {plan.task_count} tasks; the limit is {limit}")])
    try:
        job = await app[STORE].write(_create, account, spec, plan, target, idempotency_key)
    except Shortfall as short:  # nothing was created: the transaction rolled back
        purpose = f"POST /api/v1/recipes/{spec.recipe}/jobs" if spec.recipe else "POST /api/v1/jobs"
        raise await refuse(app, short, purpose) from None
    except pw.IntegrityError:  # a concurrent repeat with the same Idempotency-Key won the race
        existing = jobs.find_idempotent(account, idempotency_key or "")
        if existing is None:
            raise
        return _same_submission(existing, spec), False
    app[DISPATCHER].wake()
    return job, True


async def submit_batch(
    app: web.Application, account: Account, body: Any, idempotency_key: str | None = None
) -> list[dict[str, Any]]:
    """Submit each entry of `{"jobs": [...]}` on its own; per entry, in order, the job or the error envelope."""
    entries = body.get("jobs") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not entries or len(entries) > MAX_BATCH or set(body) != {"jobs"}:
        raise ValidationFailed([field_error("jobs", f'send {{"jobs": [...]}} with 1 to {MAX_BATCH} job objects')])
    outcomes: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        key = f"{idempotency_key}#{index}" if idempotency_key else None
        try:
            job, created = await submit(app, account, entry, idempotency_key=key)
        except ComputalotError as exc:
            outcomes.append({"index": index, "status": exc.status, **exc.to_json()})
        else:
            outcomes.append({"index": index, "status": 201 if created else 200, "job": job_json(job)})
    return outcomes


def _check_dependencies(account: Account, spec: JobSpec) -> None:
    """Every id in depends_on must be one of the caller's jobs."""
    if not spec.depends_on:
        return
    found = {j.id for j in Job.select(Job.id).where(Job.id.in_(spec.depends_on), Job.account == account.id)}
    missing = [
        field_error(f"depends_on[{i}]", f"no job {job_id!r} of yours")
        for i, job_id in enumerate(spec.depends_on)
        if job_id not in found
    ]
    if missing:
        raise ValidationFailed(missing)


def _same_submission(job: Job, spec: JobSpec) -> Job:
    if spec_of(job) != spec:
        raise Conflict(
            "this Idempotency-Key was already used with a different body",
            details={"job_id": job.id},
            recommended_action="Use a new Idempotency-Key for a different submission.",
        )
    return job


class _Target:
    """Where a job's tasks run: a project revision and command at a preset (`profile`), or a recipe queue."""

    def __init__(
        self,
        project: Project | None,
        revision: Revision | None,
        command: list[str],
        profile: str = "",
        runtime: str = "process",
        queue_key: str = "",
    ) -> None:
        self.project, self.revision, self.command = project, revision, command
        self.profile, self.queue_key = profile, queue_key
        manifest_runtime = revision.manifest.get("runtime", {}) if revision else {}
        self.runtime = manifest_runtime.get("kind", runtime)
        self.workdir = manifest_runtime.get("workdir", ".")
        self.revision_hash = revision.content_hash if revision else ""


def _target(app: web.Application, account: Account, spec: JobSpec) -> _Target:
    if spec.recipe is not None:
        recipe = find_recipe(spec.recipe)
        operation = check_recipe_job(recipe, plan_job(spec), account)
        return _Target(None, None, [], runtime="recipe", queue_key=recipe_queue_key(recipe, operation, app[ROSTER]))
    project = Project.get_or_none(Project.account == account.id, Project.name == spec.project)
    if project is None:
        raise not_found("project", spec.project or "")
    revision = Revision.get_or_none(Revision.project == project.id, Revision.number == project.active_revision)
    if revision is None:
        raise Conflict(
            f"project {project.name!r} has no pushed code yet",
            recommended_action=f"Push a tarball first: POST /api/v1/projects/{project.name}/push",
        )
    command = list(spec.runner_command or revision.manifest.get("entrypoint", {}).get("command") or [])
    if not command:
        raise ValidationFailed(
            [field_error("runner_command", "required: the project's manifest has no entrypoint.command")]
        )
    errors = FieldErrors()  # the manifest's command was never checked as a submission's is
    check_command("runner_command", command, errors.add)
    if errors.items:
        raise ValidationFailed(errors.items)
    preset = presets.resolve(spec.requirements)
    target = _Target(project, revision, command, preset.name)
    roster = app[ROSTER]
    if not roster.capable(target.runtime, target.profile):
        raise NoCapableWorkers(
            f"no live agent can run {target.runtime!r} runtime tasks of the {target.profile!r} preset",
            details={"runtime": target.runtime, "preset": target.profile, "available": roster.summary()},
        )
    return target


def _create(account: Account, spec: JobSpec, plan: Plan, target: _Target, idempotency_key: str | None) -> Job:
    """The job, its tasks and its hold, in one transaction; `Shortfall` if the account cannot cover the hold."""
    price = pricing.price(spec, plan)
    billing_accounts.reserve(account.id, price.hold_micro)
    job = jobs.create_job(
        account,
        spec,
        plan,
        project=target.project,
        revision_hash=target.revision_hash,
        command=target.command,
        runtime=target.runtime,
        workdir=target.workdir,
        profile=target.profile,
        queue_key=target.queue_key,
        idempotency_key=idempotency_key,
        depends_on=spec.depends_on,
    )
    holds.place(job, price)
    if spec.depends_on:
        outcomes.check_dependencies(job, time.time())
    return job
