"""What task attempts produced: files of their `COMPUTALOT_ARTIFACT_DIR` and their full output log.

The agent uploads them (as artifacts of the job's account) and lists them in its `TaskResult`;
`record` keeps the list of the applied attempt, and the views read it back per job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from broker.messages import TaskResult
from broker.statuses import TaskStatus
from controller.artifacts.models import Artifact, TaskArtifact
from controller.jobs.models import Task

#: Task statuses of tasks whose command ran to an end (a cancelled one was killed).
_RAN_TO_AN_END = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED})


@dataclass
class TaskOutputs:
    """The artifacts of one task's latest applied attempt."""

    artifacts: list[dict[str, Any]] = field(default_factory=list)
    log: str | None = None


def record(task: Task, account_id: str, result: TaskResult) -> None:
    """Replace the task's outputs by those of `result` (inside the write transaction applying it).

    Ids that are not artifacts of the job's account are ignored.
    """
    TaskArtifact.delete().where(TaskArtifact.task == task.id).execute()
    entries = [(a.get("id"), a.get("path"), "output") for a in result.artifacts if isinstance(a, dict)]
    if result.output_artifact:
        entries.append((result.output_artifact, "", "log"))
    ids = [ident for ident, _, _ in entries if isinstance(ident, str)]
    if not ids:
        return
    owned = {a.id for a in Artifact.select(Artifact.id).where(Artifact.id.in_(ids), Artifact.account == account_id)}
    rows = [
        {
            "job": task.job_id,
            "task": task.id,
            "artifact": ident,
            "attempt": result.attempt,
            "kind": kind,
            "path": str(path or ""),
        }
        for ident, path, kind in entries
        if ident in owned
    ]
    if rows:
        TaskArtifact.insert_many(rows).execute()


def outputs_of_job(job_id: str, task_ids: Iterable[str] | None = None) -> dict[str, TaskOutputs]:
    """Task id -> its outputs, for a job (optionally only the given tasks)."""
    query = (
        TaskArtifact.select(TaskArtifact, Artifact)
        .join(Artifact)
        .where(TaskArtifact.job == job_id)
        .order_by(TaskArtifact.id)
    )
    if task_ids is not None:
        query = query.where(TaskArtifact.task.in_(list(task_ids)))
    found: dict[str, TaskOutputs] = {}
    for row in query:
        outputs = found.setdefault(row.task_id, TaskOutputs())
        if row.kind == "log":
            outputs.log = row.artifact.id
        else:
            artifact = row.artifact
            outputs.artifacts.append(
                {"id": artifact.id, "path": row.path, "size": artifact.size_bytes, "sha256": artifact.sha256}
            )
    return found


def output_persisted(tasks: Iterable[Task], outputs: dict[str, TaskOutputs]) -> bool:
    """Whether the full output log of every task that ran to an end (completed or failed) is stored.

    A task that printed nothing has nothing to store (agents skip empty logs).
    """
    ran = [t for t in tasks if t.status in _RAN_TO_AN_END and t.exit_code is not None]
    return bool(ran) and all(outputs.get(t.id, TaskOutputs()).log or not t.output_tail for t in ran)
