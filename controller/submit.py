"""Turning a validated submission into a planned job (the I/O around `jobspec` and `planning`)."""

from __future__ import annotations

from typing import Any

import peewee as pw
from aiohttp import web

from controller import jobs, presets
from controller.errors import Conflict, NoCapableWorkers, ValidationFailed, field_error
from controller.jobspec import JobSpec, parse_job_spec, spec_to_json
from controller.models import Account, Job, Project, Revision
from controller.planning import Plan, plan_job
from controller.web import DISPATCHER, REGISTRY, SETTINGS, STORE, not_found

#: Fields accepted by validation whose behaviour this controller does not offer yet.
_NOT_YET = {
    "depends_on": "job dependencies are not supported by this controller yet; submit after the other job completes",
    "callback_url": "callbacks are not supported by this controller yet; poll GET /api/v1/jobs/:id instead",
}


async def submit(
    app: web.Application, account: Account, body: Any, *, recipe: str | None = None, idempotency_key: str | None = None
) -> tuple[Job, bool]:
    """Validate, plan and store a job; returns it and whether it is new (False for an idempotent repeat).

    Raises:
      ValidationFailed, InvalidFanOut, NotFound, Conflict, NoCapableWorkers: nothing is created.
    """
    spec = parse_job_spec(body, recipe=recipe)
    unsupported = [field_error(name, why) for name, why in _NOT_YET.items() if getattr(spec, name)]
    if unsupported:
        raise ValidationFailed(unsupported)
    if idempotency_key:
        existing = jobs.find_idempotent(account, idempotency_key)
        if existing is not None:
            return _same_submission(existing, spec), False
    target = _target(app, account, spec)
    plan = plan_job(spec)
    limit = app[SETTINGS].max_tasks_per_job
    if plan.task_count > limit:
        raise ValidationFailed([field_error("fan_out", f"plans {plan.task_count} tasks; the limit is {limit}")])
    try:
        job = await app[STORE].write(_create, account, spec, plan, target, idempotency_key)
    except pw.IntegrityError:  # a concurrent repeat with the same Idempotency-Key won the race
        existing = jobs.find_idempotent(account, idempotency_key or "")
        if existing is None:
            raise
        return _same_submission(existing, spec), False
    app[DISPATCHER].wake()
    return job, True


def _same_submission(job: Job, spec: JobSpec) -> Job:
    if job.spec != spec_to_json(spec):
        raise Conflict(
            "this Idempotency-Key was already used with a different body",
            details={"job_id": job.id},
            recommended_action="Use a new Idempotency-Key for a different submission.",
        )
    return job


class _Target:
    """Where a job's tasks run: a project revision and command."""

    def __init__(self, project: Project, revision: Revision, command: list[str], profile: str) -> None:
        self.project, self.revision, self.command, self.profile = project, revision, command, profile
        runtime = revision.manifest.get("runtime", {})
        self.runtime = runtime.get("kind", "process")
        self.workdir = runtime.get("workdir", ".")


def _target(app: web.Application, account: Account, spec: JobSpec) -> _Target:
    if spec.recipe is not None:
        raise ValidationFailed(
            [
                field_error(
                    "recipe", f"unknown recipe {spec.recipe!r}; this controller offers none yet (GET /api/v1/recipes)"
                )
            ]
        )
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
    preset, _ = presets.resolve(spec.requirements)
    target = _Target(project, revision, command, preset.profile)
    registry = app[REGISTRY]
    if not registry.capable(target.runtime, target.profile):
        raise NoCapableWorkers(
            f"no live agent can run {target.runtime!r} runtime tasks on the {target.profile!r} profile",
            details={"runtime": target.runtime, "profile": target.profile, "available": registry.summary()},
        )
    return target


def _create(account: Account, spec: JobSpec, plan: Plan, target: _Target, idempotency_key: str | None) -> Job:
    return jobs.create_job(
        account,
        spec,
        plan,
        project=target.project,
        revision_hash=target.revision.content_hash,
        command=target.command,
        runtime=target.runtime,
        workdir=target.workdir,
        profile=target.profile,
        idempotency_key=idempotency_key,
    )
