"""Public JSON shapes of jobs, tasks and results (no agent hosts, paths or image refs)."""

from __future__ import annotations

from typing import Any

from broker.statuses import TERMINAL_JOB, TaskStatus
from controller.artifacts.outputs import TaskOutputs, output_persisted, outputs_of_job
from controller.billing import holds, ledger
from controller.core.web import duration, iso
from controller.jobs.models import Job, Task
from controller.jobs.records import counts_by_status
from controller.jobs.spec import spec_of


def cost_usd(job_id: str) -> float | None:
    """What a job cost (once ended) or has cost so far, in dollars; None for a job submitted without a hold."""
    micro = holds.cost_micro(job_id)
    return None if micro is None else ledger.usd(micro)


def job_json(job: Job, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """A job as `GET /api/v1/jobs/:id` shows it: state, counts, timestamps, error and the submitted fields."""
    counts = counts if counts is not None else counts_by_status(job.id)
    spec = spec_of(job)
    return {
        "id": job.id,
        "job_id": job.id,
        "status": job.status,
        **job.spec,  # the normalised submission, echoed as it was stored
        "type": job.type,
        "project": spec.project,
        "revision": job.revision_hash or None,
        "runner_command": list(spec.runner_command) if spec.runner_command else job.command,
        "total_tasks": job.task_count,
        "counts": counts,
        "completeness": round(counts[TaskStatus.COMPLETED] / job.task_count, 6) if job.task_count else 0.0,
        "error": job.error,
        "error_code": job.error_code,
        "recommended_action": job.recommended_action,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "duration_s": duration(job.started_at or job.created_at, job.finished_at),
        "terminal": job.status in TERMINAL_JOB,
        "cost_usd": cost_usd(job.id),
    }


def job_summary(job: Job) -> dict[str, Any]:
    """A job in listings: no payload, so a page of jobs stays small."""
    spec = spec_of(job)
    return {
        "id": job.id,
        "status": job.status,
        "type": job.type,
        "recipe": job.recipe or None,
        "project": spec.project,
        "total_tasks": job.task_count,
        "finished_tasks": job.finished_count,
        "tags": list(spec.tags),
        "priority": job.priority,
        "error": job.error,
        "created_at": iso(job.created_at),
        "finished_at": iso(job.finished_at),
    }


def task_json(task: Task, payload: dict[str, Any] | None = None, outputs: TaskOutputs | None = None) -> dict[str, Any]:
    """One task as `GET /api/v1/jobs/:id/tasks` shows it (`outputs`: its artifacts, see `outputs_of_job`)."""
    outputs = outputs or TaskOutputs()
    return {
        "task_id": task.id,
        "index": task.task_index,
        "status": task.status,
        "attempt": task.attempt,
        "exit_code": task.exit_code,
        "error": task.error,
        "error_code": task.error_code,
        "output": task.output_tail,
        "latest_progress": task.latest_progress,
        "live_feedback": {"output_tail": task.output_tail, "latest_progress": task.latest_progress},
        "started_at": iso(task.started_at),
        "finished_at": iso(task.finished_at),
        "duration_s": duration(task.started_at, task.finished_at),
        "payload": payload,
        "artifacts": outputs.artifacts,
        "output_artifact": outputs.log,
    }


def result_task_json(task: Task, outputs: TaskOutputs | None = None) -> dict[str, Any]:
    outputs = outputs or TaskOutputs()
    return {
        "task_id": task.id,
        "index": task.task_index,
        "status": task.status,
        "result": task.result,
        "result_quality": task.result_quality,
        "result_warnings": task.result_warnings or [],
        "error": task.error,
        "artifacts": outputs.artifacts,
        "output_artifact": outputs.log,
    }


def results_json(job: Job, tasks: list[Task]) -> dict[str, Any]:
    """`GET /api/v1/results/:job_id`."""
    outputs = outputs_of_job(job.id)
    counts = {str(s): 0 for s in TaskStatus}
    task_seconds = 0.0
    for task in tasks:
        counts[task.status] += 1
        task_seconds += duration(task.started_at, task.finished_at) or 0.0
    return {
        "job_id": job.id,
        "status": job.status,
        "completeness": round(counts[TaskStatus.COMPLETED] / job.task_count, 6) if job.task_count else 0.0,
        "cost_usd": cost_usd(job.id),
        "summary": {
            "total": job.task_count,
            "completed": counts[TaskStatus.COMPLETED],
            "failed": counts[TaskStatus.FAILED],
            "cancelled": counts[TaskStatus.CANCELLED],
            "duration_s": duration(job.started_at or job.created_at, job.finished_at),
            "task_seconds": round(task_seconds, 3),
        },
        "aggregate_result": job.aggregate,
        "aggregate_aliases": job.aliases or {},
        "aggregate_warnings": job.warnings or [],
        "result_persisted": job.status in TERMINAL_JOB,
        "output_persisted": output_persisted(tasks, outputs),
        "error": job.error,
        "recommended_action": job.recommended_action,
        "meta": spec_of(job).meta,
        "tasks": [result_task_json(t, outputs.get(t.id)) for t in tasks],
    }
