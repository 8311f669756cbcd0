"""How jobs and tasks move on: claims, results, retries, finalization, cancellation, dependencies.

Each function runs inside one write transaction (`Store.write`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from broker.messages import TaskResult
from broker.statuses import (
    ACTIVE_JOB,
    TERMINAL_JOB,
    TERMINAL_TASK,
    JobStatus,
    TaskStatus,
    job_transition,
    task_sources,
    task_transition,
)
from controller.artifacts import outputs as task_outputs
from controller.billing import holds
from controller.jobs import merging
from controller.jobs.kinds import kind_of
from controller.jobs.models import Callback, Job, JobDependency, Task
from controller.jobs.records import counts_by_status, record, task_id
from controller.jobs.spec import plan_of, spec_of

logger = logging.getLogger(__name__)


#: Retries of lost agents and platform failures before the user's command ran.
MAX_FREE_RETRIES = 3


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
    if task.status == TaskStatus.RUNNING and agent_is_running(task.agent_id, task.id):
        # the same agent included: a redelivered message must not start a second run beside the first
        return Claim(False, "duplicate delivery: an agent is already running this attempt")
    if task.status == TaskStatus.RUNNING and task.agent_id != agent_id:
        if task.free_retries >= MAX_FREE_RETRIES:
            _finish_task(
                task,
                job,
                TaskStatus.FAILED,
                now,
                error="the agent running this task was lost too many times",
                error_code="agent_lost",
            )
            return Claim(False, "agent lost too many times")
        task.free_retries += 1
        logger.warning("task=%s attempt=%s taken over from lost agent %s", task.id, attempt, task.agent_id)
    task.status = task_transition(task.status, TaskStatus.RUNNING)
    task.agent_id, task.claimed_at = agent_id, now
    task.started_at = task.started_at or now
    task.save()
    if job.status == JobStatus.QUEUED:
        job.status, job.started_at = job_transition(job.status, JobStatus.RUNNING), now
        job.save()
        record(job, "status", {"status": job.status}, now)
    record(job, "task", {"task_id": task.id, "index": task.task_index, "status": task.status, "attempt": attempt}, now)
    return Claim(True)


@dataclass(frozen=True)
class Applied:
    """What applying a result changed, for notifications after commit."""

    job_id: str
    job_status: str
    task_status: TaskStatus
    retried: bool


def apply_result(result: TaskResult) -> Applied | None:
    """Apply one task result exactly once per (task, attempt) of a claimed attempt.

    Duplicates, stale attempts and attempts nobody claimed are ignored (and logged): raising would only make the
    broker redeliver a message that can never apply.
    """
    task = Task.select(Task, Job).join(Job).where(Task.id == result.task_id).first()
    if task is None or task.attempt != result.attempt or task.status in TERMINAL_TASK:
        return None
    if task.status == TaskStatus.QUEUED:
        logger.warning("task=%s attempt=%s: result for an attempt nobody claimed, ignored", task.id, task.attempt)
        return None
    job = task.job
    now = time.time()
    task.output_tail = result.output_tail or task.output_tail
    task.exit_code = result.exit_code
    if result.progress is not None and result.progress != task.latest_progress:
        # the live frame may have been lost or flushed too late: the final progress comes with the result
        task.latest_progress = result.progress
        record(job, "progress", {"task_id": task.id, "attempt": task.attempt, "progress": result.progress}, now)
    task_outputs.record(task, job.account_id, result)
    holds.record_result(job, task, result, now)
    if result.status == TaskStatus.COMPLETED:
        quality, warnings = merging.result_quality(result.result, batched=plan_of(job).batched)
        task.result, task.result_quality, task.result_warnings = result.result, quality, warnings
        task.started_at = result.started_at or task.started_at
        _finish_task(task, job, TaskStatus.COMPLETED, result.finished_at or now)
        return Applied(job.id, job.status, TaskStatus.COMPLETED, False)
    if _should_retry(task, job, result):
        task.status = task_transition(task.status, TaskStatus.QUEUED)
        task.enqueued, task.agent_id = False, ""
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
                "status": "retrying",  # an event label, not a task status: the task is queued again
                "attempt": task.attempt,
                "error": result.error,
            },
            now,
        )
        return Applied(job.id, job.status, task.status, True)
    status = TaskStatus.CANCELLED if result.status == TaskStatus.CANCELLED else TaskStatus.FAILED
    _finish_task(task, job, status, result.finished_at or now, error=result.error, error_code=result.error_code)
    return Applied(job.id, job.status, status, False)


def _should_retry(task: Task, job: Job, result: TaskResult) -> bool:
    if result.status == TaskStatus.CANCELLED:
        return False
    if not result.counts_as_attempt:
        if task.free_retries < MAX_FREE_RETRIES:
            task.free_retries += 1
            return True
        return False
    if task.retries_used < spec_of(job).max_retries:
        task.retries_used += 1
        return True
    return False


def _finish_task(task: Task, job: Job, status: TaskStatus, now: float, error: str = "", error_code: str = "") -> None:
    task.status, task.finished_at = task_transition(task.status, status), now
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

    A job whose kind has a reduce command (map_reduce's) first gets its reduce task, over the planned tasks' results.
    """
    tasks = list(
        Task.select(Task.status, Task.result, Task.error, Task.error_code, Task.task_index)
        .where(Task.job == job.id)
        .order_by(Task.task_index)
    )
    spec, plan = spec_of(job), plan_of(job)
    kind = kind_of(spec.type)
    mapped = tasks[: plan.task_count]
    results = [t.result if t.status == TaskStatus.COMPLETED else None for t in mapped]
    reduce_command = kind.reduce_command(spec)
    if reduce_command and len(tasks) == plan.task_count and any(r is not None for r in results):
        _add_reduce_task(job, kind.reduce_payload(spec, plan, results), list(reduce_command), now)
        return
    if reduce_command and len(tasks) > plan.task_count:
        reducer = tasks[plan.task_count]
        job.aggregate, job.aliases, job.warnings = reducer.result, {}, []
    else:
        merged = kind.merge(spec, plan, results)
        job.aggregate, job.aliases, job.warnings = merged.value, merged.aliases, merged.warnings
    failed = [t for t in tasks if t.status != TaskStatus.COMPLETED]
    if not failed:
        job.status = job_transition(job.status, JobStatus.COMPLETED)
    else:
        job.status = job_transition(job.status, JobStatus.PARTIAL if len(failed) < len(tasks) else JobStatus.FAILED)
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


def _add_reduce_task(job: Job, payload: dict[str, Any], command: list[str], now: float) -> None:
    """One more task, after the planned ones: its kind's reduce payload (e.g. every map result)."""
    index = job.task_count
    Task.create(
        id=task_id(job.id, index), job=job, task_index=index, payload=payload, command=command, status=TaskStatus.QUEUED
    )
    job.task_count += 1
    job.dispatch_pending = True
    job.save()
    event = {"task_id": task_id(job.id, index), "index": index, "status": TaskStatus.QUEUED, "reduce": True}
    record(job, "task", event, now)


def cancel_job(job_id: str) -> tuple[Job, bool]:
    """Cancel a job unless it already ended: queued tasks never start, running ones are marked cancelled.

    Returns the job and whether this call cancelled it.
    """
    job = Job.get_by_id(job_id)
    if job.status in TERMINAL_JOB:
        return job, False
    _end_early(job, JobStatus.CANCELLED, "cancelled", "cancelled by the user", time.time())
    return job, True


def fail_job(job: Job, code: str, error: str, now: float) -> None:
    """End a job as failed as a whole: its unfinished tasks are cancelled and never start."""
    _end_early(job, JobStatus.FAILED, code, error, now)


def fail_undispatchable(broken: dict[str, str]) -> None:
    """Fail each job whose task message could not be built or sent (`dispatch_failed`), each on its own.

    The dispatcher quarantines them so they never block the dispatch of other jobs; the hold is settled and the
    callback queued through the normal ending path.
    """
    now = time.time()
    for job in Job.select().where(Job.id.in_(list(broken)), Job.status.in_(ACTIVE_JOB)):
        job.dispatch_pending = False
        logger.warning("job=%s failed at dispatch: %s", job.id, broken[job.id])
        fail_job(job, "dispatch_failed", f"its tasks could not be sent to the agents: {broken[job.id]}", now)


def _end_early(job: Job, status: JobStatus, code: str, error: str, now: float) -> None:
    """End a job before its tasks did: unfinished tasks are cancelled (agents kill the running ones)."""
    status = job_transition(job.status, status)  # before any write: an ended job stays as it ended
    holds.charge_running(job, now)
    cancelled = (
        Task.update(status=TaskStatus.CANCELLED, finished_at=now)
        .where(Task.job == job.id, Task.status.in_(task_sources(TaskStatus.CANCELLED)))
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
    url = spec_of(job).callback_url
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
            "completed": counts[TaskStatus.COMPLETED],
            "failed": counts[TaskStatus.FAILED],
            "cancelled": counts[TaskStatus.CANCELLED],
            "error": job.error,
            "duration_s": None if job.finished_at is None else round(job.finished_at - job.created_at, 3),
        },
    }


def check_dependencies(job: Job, now: float) -> None:
    """Queue a planning job whose dependencies all completed; fail it if one ended otherwise."""
    statuses = [
        d.status
        for d in Job.select(Job.status)
        .join(JobDependency, on=JobDependency.depends_on)
        .where(JobDependency.job == job.id)
    ]
    ended_badly = [s for s in statuses if s in TERMINAL_JOB and s != JobStatus.COMPLETED]
    if ended_badly:
        fail_job(job, "dependency_failed", f"a job this one depends on ended {ended_badly[0]}", now)
    elif all(s == JobStatus.COMPLETED for s in statuses):
        job.status = job_transition(job.status, JobStatus.QUEUED)
        job.save()
        record(job, "status", {"status": job.status}, now)


def _release_dependents(job: Job, now: float) -> None:
    """Jobs waiting on `job` move on now that it ended."""
    waiting = (
        Job.select()
        .join(JobDependency, on=JobDependency.job)
        .where(JobDependency.depends_on == job.id, Job.status == JobStatus.PLANNING)
    )
    for dependent in waiting:
        check_dependencies(dependent, now)


def reap_lost_tasks(agent_is_running: Callable[[str, str], bool], older_than: float) -> list[str]:
    """Requeue running tasks that their agent no longer reports running (a retry that does not count).

    An agent that stopped heartbeating runs nothing; one that restarted under the same id (an agent key is its
    identity) heartbeats again without the attempts it lost. `older_than` spares attempts claimed too recently
    for any heartbeat to list them.
    """
    requeued: list[str] = []
    rows = (
        Task.select(Task, Job)
        .join(Job)
        .where(Task.status == TaskStatus.RUNNING, Task.claimed_at < older_than, Job.status.in_(ACTIVE_JOB))
    )
    for task in rows:
        if agent_is_running(task.agent_id, task.id):
            continue
        lost = TaskResult(
            job_id=task.job_id,
            task_id=task.id,
            attempt=task.attempt,
            status=TaskStatus.FAILED,
            error=f"agent {task.agent_id} no longer runs this attempt (it stopped heartbeating or restarted)",
            error_code="agent_lost",
            counts_as_attempt=False,
        )
        applied = apply_result(lost)
        if applied is not None:
            requeued.append(task.id)
    return requeued


_RECOMMENDATIONS = {
    "timeout": "The task ran past timeout_s: raise timeout_s, or split the work with fan_out.",
    "exit_code": "Your command exited non-zero: read GET /api/v1/jobs/:id/output for its stderr, fix, push, resubmit.",
    "bad_result": "Write a JSON object to the file named by $COMPUTALOT_TASK_RESULT before exiting 0.",
    "agent_lost": "Agents running this task kept disappearing; resubmit, and tell the operator if it persists.",
    "runtime_error": "The project could not be prepared on the agent; check the push and the manifest, then resubmit.",
    "dependency_failed": "A job in depends_on did not complete: fix and rerun it, then resubmit this job.",
    "command_not_found": "The runner_command program does not exist on the agent: fix runner_command or the manifest.",
    "invalid_command": "The runner_command cannot be run (e.g. an argument holds a NUL): fix it or the manifest.",
    "dispatch_failed": (
        "The job's task messages could not be built or sent (see error): keep payloads within the documented "
        "limits (integers within 64 bits, at most 64 levels deep, 4 MiB per task); put large inputs in an artifact "
        "and pass its id in `_artifacts.download`, then resubmit."
    ),
    "cancelled": "Resubmit the job if you still need its results.",
}


def _recommendation(code: str) -> str:
    return _RECOMMENDATIONS.get(
        code, "Inspect GET /api/v1/jobs/:id/tasks for per-task errors, fix the cause and resubmit."
    )
