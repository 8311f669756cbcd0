"""Job and task state changes. Each function runs inside one write transaction (`Store.write`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee as pw

from broker.messages import TaskResult
from controller import merging
from controller.artifacts import outputs as task_outputs
from controller.auth import new_id
from controller.billing import holds
from controller.jobspec import JobSpec, spec_from_json, spec_to_json
from controller.models import Account, Callback, Event, Job, JobDependency, JobTag, Project, Task
from controller.planning import Plan, plan_job

logger = logging.getLogger(__name__)

TERMINAL_JOB = ("completed", "partial", "failed", "cancelled")
TERMINAL_TASK = ("completed", "failed", "cancelled")
ACTIVE_JOB = ("queued", "running")

#: Retries of lost agents and platform failures before the user's command ran.
MAX_FREE_RETRIES = 3

#: Task rows per INSERT statement (10 parameters each stays under SQLite's limit of 32,766).
_INSERT_BATCH = 3000


def task_id(job_id: str, index: int) -> str:
    """Task ids derive from the job id, so planning needs no id generation per task."""
    return f"tsk_{job_id.removeprefix('job_')}_{index}"


def record(job: Job, kind: str, data: dict[str, Any], now: float | None = None) -> Event:
    """Append one lifecycle event of `job`."""
    return Event.create(
        account=job.account_id, job=job, project=job.project_id, kind=kind, data=data, created_at=now or time.time()
    )


def create_job(
    account: Account,
    spec: JobSpec,
    plan: Plan,
    *,
    project: Project | None,
    revision_hash: str,
    command: list[str],
    runtime: str,
    workdir: str,
    profile: str,
    idempotency_key: str | None,
    depends_on: tuple[str, ...] = (),
) -> Job:
    """Insert a job and all its tasks in one transaction: queued for dispatch, or planning behind its dependencies."""
    now = time.time()
    job = Job.create(
        id=new_id("job"),
        account=account,
        project=project,
        revision_hash=revision_hash,
        recipe=spec.recipe or "",
        type=spec.type if spec.recipe is None else "recipe",
        status="planning" if depends_on else "queued",
        priority=spec.priority,
        profile=profile,
        spec=spec_to_json(spec),
        command=command,
        runtime=runtime,
        workdir=workdir,
        task_count=plan.task_count,
        idempotency_key=idempotency_key,
        created_at=now,
    )
    if spec.tags:
        JobTag.insert_many([(job.id, tag) for tag in spec.tags], fields=[JobTag.job, JobTag.tag]).execute()
    _insert_tasks(job.id, plan.task_count)
    record(job, "status", {"status": job.status, "task_count": plan.task_count}, now)
    if depends_on:
        JobDependency.insert_many(
            [(job.id, d) for d in depends_on], fields=[JobDependency.job, JobDependency.depends_on]
        ).execute()
        _check_dependencies(job, now)
    return job


def _check_dependencies(job: Job, now: float) -> None:
    """Queue a planning job whose dependencies all completed; fail it if one ended otherwise."""
    statuses = [
        d.status
        for d in Job.select(Job.status)
        .join(JobDependency, on=JobDependency.depends_on)
        .where(JobDependency.job == job.id)
    ]
    ended_badly = [s for s in statuses if s in TERMINAL_JOB and s != "completed"]
    if ended_badly:
        fail_job(job, "dependency_failed", f"a job this one depends on ended {ended_badly[0]}", now)
    elif all(s == "completed" for s in statuses):
        job.status = "queued"
        job.save()
        record(job, "status", {"status": "queued"}, now)


def _release_dependents(job: Job, now: float) -> None:
    """Jobs waiting on `job` move on now that it ended."""
    waiting = (
        Job.select()
        .join(JobDependency, on=JobDependency.job)
        .where(JobDependency.depends_on == job.id, Job.status == "planning")
    )
    for dependent in waiting:
        _check_dependencies(dependent, now)


def fail_job(job: Job, code: str, error: str, now: float) -> None:
    """End a job as failed as a whole: its unfinished tasks are cancelled and never start."""
    _end_early(job, "failed", code, error, now)


def _end_early(job: Job, status: str, code: str, error: str, now: float) -> None:
    """End a job before its tasks did: unfinished tasks are cancelled (agents kill the running ones)."""
    holds.charge_running(job, now)
    cancelled = (
        Task.update(status="cancelled", finished_at=now)
        .where(Task.job == job.id, Task.status.in_(("queued", "running")))
        .execute()
    )
    job.finished_count += cancelled
    job.status, job.finished_at = status, now
    job.error_code, job.error, job.recommended_action = code, error, _recommendation(code)
    job.save()
    record(job, "status", {"status": status, "error": error}, now)
    _job_ended(job, now)


def _job_ended(job: Job, now: float) -> None:
    """What every terminal transition owes: the `result` event, dependents move on, the callback is queued."""
    holds.settle(job, now)  # the job's hold ends with it, in the transaction that ends the job
    body = callback_body(job)
    record(job, "result", body, now)  # right after the final status event: streams end after it
    _release_dependents(job, now)
    url = job.spec.get("callback_url")
    if url:
        Callback.create(job=job, url=url, body=body, next_at=now)


def callback_body(job: Job) -> dict[str, Any]:
    """`{job_id, status, summary}` POSTed to a job's callback_url."""
    counts = counts_by_status(job.id)
    return {
        "job_id": job.id,
        "status": job.status,
        "summary": {
            "total": job.task_count,
            "completed": counts["completed"],
            "failed": counts["failed"],
            "cancelled": counts["cancelled"],
            "error": job.error,
            "duration_s": None if job.finished_at is None else round(job.finished_at - job.created_at, 3),
        },
    }


#: Columns written when planning; every other column is nullable.
_TASK_COLUMNS = (
    "id",
    "job_id",
    "task_index",
    "status",
    "attempt",
    "retries_used",
    "free_retries",
    "enqueued",
    "agent_id",
    "output_tail",
)


def _insert_tasks(job_id: str, count: int) -> None:
    """Insert a job's task rows with multi-row INSERTs (peewee's per-value SQL building dominates at 100k rows)."""
    db = Task._meta.database
    placeholders = "(" + ", ".join([db.param] * len(_TASK_COLUMNS)) + ")"
    columns = ", ".join(_TASK_COLUMNS)
    for start in range(0, count, _INSERT_BATCH):
        indices = range(start, min(start + _INSERT_BATCH, count))
        params = [v for i in indices for v in (task_id(job_id, i), job_id, i, "queued", 1, 0, 0, False, "", "")]
        values = ", ".join([placeholders] * len(indices))
        db.execute_sql(f"INSERT INTO {Task._meta.table_name} ({columns}) VALUES {values}", params)


def find_idempotent(account: Account, key: str) -> Job | None:
    """The job an earlier submission with the same `Idempotency-Key` created."""
    return Job.get_or_none(Job.account == account.id, Job.idempotency_key == key)


@dataclass(frozen=True)
class Claim:
    """Whether an agent may run the attempt it received."""

    run: bool
    reason: str = ""


def claim_task(task_id_: str, attempt: int, agent_id: str, agent_is_running: Callable[[str, str], bool]) -> Claim:
    """An agent asks to start an attempt; this is the state check before any task starts.

    `agent_is_running(agent_id, task_id)` tells whether a live agent reports running the task,
    which distinguishes a duplicate delivery (refused) from a lost agent (taken over).
    """
    task = Task.select(Task, Job).join(Job).where(Task.id == task_id_).first()
    if task is None:
        return Claim(False, "unknown task")
    job = task.job
    if job.status not in ACTIVE_JOB or task.status in TERMINAL_TASK:
        return Claim(False, f"task is {task.status} in a {job.status} job")
    if task.attempt != attempt:
        return Claim(False, f"stale attempt {attempt}; the task is on attempt {task.attempt}")
    now = time.time()
    if task.status == "running" and task.agent_id != agent_id:
        if agent_is_running(task.agent_id, task.id):
            return Claim(False, "duplicate delivery: another agent is running this attempt")
        if task.free_retries >= MAX_FREE_RETRIES:
            _finish_task(
                task,
                job,
                "failed",
                now,
                error="the agent running this task was lost too many times",
                error_code="agent_lost",
            )
            return Claim(False, "agent lost too many times")
        task.free_retries += 1
        logger.warning("task=%s attempt=%s taken over from lost agent %s", task.id, attempt, task.agent_id)
    task.status, task.agent_id, task.claimed_at = "running", agent_id, now
    task.started_at = task.started_at or now
    task.save()
    if job.status == "queued":
        job.status, job.started_at = "running", now
        job.save()
        record(job, "status", {"status": "running"}, now)
    record(job, "task", {"task_id": task.id, "index": task.task_index, "status": "running", "attempt": attempt}, now)
    return Claim(True)


@dataclass(frozen=True)
class Applied:
    """What applying a result changed, for notifications after commit."""

    job_id: str
    job_status: str
    task_status: str
    retried: bool


def apply_result(result: TaskResult) -> Applied | None:
    """Apply one task result exactly once per (task, attempt); duplicates and stale attempts are ignored."""
    task = Task.select(Task, Job).join(Job).where(Task.id == result.task_id).first()
    if task is None or task.attempt != result.attempt or task.status in TERMINAL_TASK:
        return None
    job = task.job
    now = time.time()
    task.output_tail = result.output_tail or task.output_tail
    task.exit_code = result.exit_code
    task_outputs.record(task, job.account_id, result)
    holds.record_result(job, task, result, now)
    if result.status == "completed":
        quality, warnings = merging.result_quality(result.result, batched=_batched(job))
        task.result, task.result_quality, task.result_warnings = result.result, quality, warnings
        task.started_at = result.started_at or task.started_at
        _finish_task(task, job, "completed", result.finished_at or now)
        return Applied(job.id, job.status, "completed", False)
    if _should_retry(task, job, result):
        task.status, task.enqueued, task.agent_id = "queued", False, ""
        task.attempt += 1
        task.error, task.error_code = result.error, result.error_code
        task.save()
        Job.update(dispatch_pending=True).where(Job.id == job.id).execute()
        record(
            job,
            "task",
            {
                "task_id": task.id,
                "index": task.task_index,
                "status": "retrying",
                "attempt": task.attempt,
                "error": result.error,
            },
            now,
        )
        return Applied(job.id, job.status, "queued", True)
    status = "cancelled" if result.status == "cancelled" else "failed"
    _finish_task(task, job, status, result.finished_at or now, error=result.error, error_code=result.error_code)
    return Applied(job.id, job.status, status, False)


def _batched(job: Job) -> bool:
    fan_out = job.spec.get("fan_out") or job.spec.get("split") or {}
    return fan_out.get("batch_size", 1) > 1


def _should_retry(task: Task, job: Job, result: TaskResult) -> bool:
    if result.status == "cancelled":
        return False
    if not result.counts_as_attempt:
        if task.free_retries < MAX_FREE_RETRIES:
            task.free_retries += 1
            return True
        return False
    if task.retries_used < job.spec.get("max_retries", 0):
        task.retries_used += 1
        return True
    return False


def _finish_task(task: Task, job: Job, status: str, now: float, error: str = "", error_code: str = "") -> None:
    task.status, task.finished_at = status, now
    if error:
        task.error, task.error_code = error, error_code or "task_failed"
    task.save()
    Job.update(finished_count=Job.finished_count + 1).where(Job.id == job.id).execute()
    job.finished_count += 1
    record(
        job,
        "task",
        {
            "task_id": task.id,
            "index": task.task_index,
            "status": status,
            "attempt": task.attempt,
            "exit_code": task.exit_code,
            "error": task.error,
        },
        now,
    )
    if job.finished_count >= job.task_count and job.status in ACTIVE_JOB:
        finalize_job(job, now)


def finalize_job(job: Job, now: float) -> None:
    """Merge results and set the job's terminal status, error and recommended action.

    A map_reduce job with a reduce command first gets its reduce task, over the map results.
    """
    tasks = list(
        Task.select(Task.status, Task.result, Task.error, Task.error_code, Task.task_index)
        .where(Task.job == job.id)
        .order_by(Task.task_index)
    )
    spec = spec_from_json(job.spec)
    plan = plan_job(spec)
    mapped = tasks[: plan.task_count]
    results = [t.result if t.status == "completed" else None for t in mapped]
    reduce_command = spec.reduce.get("runner_command") if spec.type == "map_reduce" else None
    if reduce_command and len(tasks) == plan.task_count and any(r is not None for r in results):
        _add_reduce_task(job, plan, results, list(reduce_command), now)
        return
    if reduce_command and len(tasks) > plan.task_count:
        reducer = tasks[plan.task_count]
        job.aggregate, job.aliases, job.warnings = reducer.result, {}, []
    else:
        merged = merging.aggregate(spec, plan, results)
        job.aggregate, job.aliases, job.warnings = merged.value, merged.aliases, merged.warnings
    failed = [t for t in tasks if t.status != "completed"]
    if not failed:
        job.status = "completed"
    else:
        job.status = "partial" if len(failed) < len(tasks) else "failed"
        first = failed[0]
        job.error_code = first.error_code or "task_failed"
        job.error = (
            f"{len(failed)} of {len(tasks)} tasks failed; first failure (task {first.task_index}): "
            f"{first.error or first.status}"
        )
        job.recommended_action = _recommendation(job.error_code)
    job.finished_at = now
    job.save()
    record(job, "status", {"status": job.status, "error": job.error}, now)
    _job_ended(job, now)


def _add_reduce_task(job: Job, plan: Plan, results: list[Any], command: list[str], now: float) -> None:
    """One more task, after the maps: it receives every map result (null where a map failed)."""
    values = merging.element_results(plan, results).values
    index = job.task_count
    Task.create(
        id=task_id(job.id, index),
        job=job,
        task_index=index,
        payload={"map_results": values, "payload": job.spec.get("payload") or {}},
        command=command,
    )
    job.task_count += 1
    job.dispatch_pending = True
    job.save()
    record(job, "task", {"task_id": task_id(job.id, index), "index": index, "status": "queued", "reduce": True}, now)


_RECOMMENDATIONS = {
    "timeout": "The task ran past timeout_s: raise timeout_s, or split the work with fan_out.",
    "exit_code": "Your command exited non-zero: read GET /api/v1/jobs/:id/output for its stderr, fix, push, resubmit.",
    "bad_result": "Write a JSON object to the file named by $COMPUTALOT_TASK_RESULT before exiting 0.",
    "agent_lost": "Agents running this task kept disappearing; resubmit, and tell the operator if it persists.",
    "runtime_error": "The project could not be prepared on the agent; check the push and the manifest, then resubmit.",
    "dependency_failed": "A job in depends_on did not complete: fix and rerun it, then resubmit this job.",
    "command_not_found": "The runner_command program does not exist on the agent: fix runner_command or the manifest.",
    "cancelled": "Resubmit the job if you still need its results.",
}


def _recommendation(code: str) -> str:
    return _RECOMMENDATIONS.get(
        code, "Inspect GET /api/v1/jobs/:id/tasks for per-task errors, fix the cause and resubmit."
    )


def cancel_job(job_id: str) -> tuple[Job, bool]:
    """Cancel a job unless it already ended: queued tasks never start, running ones are marked cancelled.

    Returns the job and whether this call cancelled it.
    """
    job = Job.get_by_id(job_id)
    if job.status in TERMINAL_JOB:
        return job, False
    _end_early(job, "cancelled", "cancelled", "cancelled by the user", time.time())
    return job, True


def reap_lost_tasks(is_live: Callable[[str], bool], older_than: float) -> list[str]:
    """Requeue running tasks whose agent stopped heartbeating (a retry that does not count)."""
    requeued: list[str] = []
    rows = (
        Task.select(Task, Job)
        .join(Job)
        .where(Task.status == "running", Task.claimed_at < older_than, Job.status.in_(ACTIVE_JOB))
    )
    for task in rows:
        if is_live(task.agent_id):
            continue
        lost = TaskResult(
            job_id=task.job_id,
            task_id=task.id,
            attempt=task.attempt,
            status="failed",
            error=f"agent {task.agent_id} stopped heartbeating",
            error_code="agent_lost",
            counts_as_attempt=False,
        )
        applied = apply_result(lost)
        if applied is not None:
            requeued.append(task.id)
    return requeued


_PRIORITY_RANK = pw.Case(Job.priority, (("high", 0), ("normal", 1)), 2)


def pending_tasks(limit: int) -> list[tuple[Task, Job]]:
    """Up to `limit` task attempts not yet in the broker: high-priority jobs first, then oldest first.

    Each job row (with its possibly large spec) is loaded once, not once per task.
    """
    pending: list[tuple[Task, Job]] = []
    jobs = (
        Job.select()
        .where(Job.dispatch_pending == True, Job.status.in_(ACTIVE_JOB))  # noqa: E712
        .order_by(_PRIORITY_RANK, Job.created_at)
    )
    for job in jobs:
        tasks = (
            Task.select(Task.id, Task.job, Task.task_index, Task.attempt, Task.payload, Task.command)
            .where(Task.job == job.id, Task.enqueued == False, Task.status == "queued")  # noqa: E712
            .order_by(Task.task_index)
            .limit(limit - len(pending))
        )
        pending.extend((task, job) for task in tasks)
        if len(pending) >= limit:
            break
    return pending


def mark_enqueued(pairs: list[tuple[str, int]], job_ids: set[str]) -> None:
    """Record that these (task id, attempt) messages are in the broker; jobs with nothing left stop being pending."""
    by_attempt: dict[int, list[str]] = {}
    for tid, attempt in pairs:
        by_attempt.setdefault(attempt, []).append(tid)
    for attempt, ids in by_attempt.items():
        for start in range(0, len(ids), 500):
            Task.update(enqueued=True).where(Task.id.in_(ids[start : start + 500]), Task.attempt == attempt).execute()
    for job_id in job_ids:
        left = Task.select().where(Task.job == job_id, Task.enqueued == False, Task.status == "queued")  # noqa: E712
        if not left.exists():
            Job.update(dispatch_pending=False).where(Job.id == job_id).execute()


def requeue_all_unfinished() -> int:
    """After a restart on a broker that forgets (memory://): every unfinished task goes back to the broker."""
    Job.update(dispatch_pending=True).where(Job.status.in_(ACTIVE_JOB)).execute()
    return Task.update(enqueued=False).where(Task.status.in_(("queued", "running"))).execute()


def counts_by_status(job_id: str) -> dict[str, int]:
    """Number of tasks per status."""
    counts = {s: 0 for s in ("queued", "running", "completed", "failed", "cancelled")}
    query = Task.select(Task.status, pw.fn.COUNT(Task.id).alias("n")).where(Task.job == job_id).group_by(Task.status)
    for row in query:
        counts[row.status] = row.n
    return counts
