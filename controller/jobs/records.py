"""Creating jobs and reading their state. Writers run inside one write transaction (`Store.write`)."""

from __future__ import annotations

import time
from typing import Any

import peewee as pw

from broker.statuses import JobStatus, TaskStatus
from controller.accounts.models import Account
from controller.core.ids import new_id
from controller.core.models import tuples
from controller.jobs.models import Job, JobDependency, JobTag, Task
from controller.jobs.planning import Plan
from controller.jobs.spec import JobSpec, spec_to_json
from controller.live.models import Event
from controller.projects.models import Project

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
    queue_key: str = "",
    idempotency_key: str | None,
    depends_on: tuple[str, ...] = (),
) -> Job:
    """Insert a job and all its tasks: queued for dispatch, or planning behind its dependencies.

    Project jobs name their preset in `profile`; recipe jobs leave it empty and name their queue in `queue_key`.
    A job with dependencies must then go through `outcomes.check_dependencies` in the same transaction.
    """
    now = time.time()
    job = Job.create(
        id=new_id("job"),
        account=account,
        project=project,
        revision_hash=revision_hash,
        recipe=spec.recipe or "",
        type=spec.type if spec.recipe is None else "recipe",
        status=JobStatus.PLANNING if depends_on else JobStatus.QUEUED,
        priority=spec.priority,
        profile=profile,
        queue_key=queue_key,
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
    return job


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

#: Values of the columns after `task_index` for a task that was just planned.
_NEW_TASK = (TaskStatus.QUEUED, 1, 0, 0, False, "", "")


def _insert_tasks(job_id: str, count: int) -> None:
    """Insert a job's task rows with multi-row INSERTs (peewee's per-value SQL building dominates at 100k rows)."""
    db = Task._meta.database
    placeholders = "(" + ", ".join([db.param] * len(_TASK_COLUMNS)) + ")"
    columns = ", ".join(_TASK_COLUMNS)
    for start in range(0, count, _INSERT_BATCH):
        indices = range(start, min(start + _INSERT_BATCH, count))
        params = [v for i in indices for v in (task_id(job_id, i), job_id, i, *_NEW_TASK)]
        values = ", ".join([placeholders] * len(indices))
        db.execute_sql(f"INSERT INTO {Task._meta.table_name} ({columns}) VALUES {values}", params)


def find_idempotent(account: Account, key: str) -> Job | None:
    """The job an earlier submission with the same `Idempotency-Key` created."""
    return Job.get_or_none(Job.account == account.id, Job.idempotency_key == key)


def counts_by_status(job_id: str) -> dict[str, int]:
    """Number of tasks per status."""
    counts = {str(s): 0 for s in TaskStatus}
    query = Task.select(Task.status, pw.fn.COUNT(Task.id).alias("n")).where(Task.job == job_id).group_by(Task.status)
    for status, n in tuples(query):
        counts[status] = n
    return counts
