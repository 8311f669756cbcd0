"""What an agent key may reach: only what the attempts its agent holds need.

An agent's account id is its `agent_id`: a claim records it on the task (`Task.agent_id`), and an attempt is held
while the task is running under that id. An agent may fetch the revision of a job whose attempt it holds, the
artifacts a held attempt's payload names (of that job's account), and upload outputs for a held attempt; nothing
of another agent's attempts, nor of finished ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from broker.statuses import TaskStatus
from controller.artifacts.models import Artifact
from controller.jobs.models import Job, Task
from controller.jobs.spec import plan_of


def _held(agent_id: str) -> Any:
    """The running tasks claimed by `agent_id`, with their jobs."""
    return Task.select(Task, Job).join(Job).where(Task.agent_id == agent_id, Task.status == TaskStatus.RUNNING)


def holds_revision(agent_id: str, digest: str) -> bool:
    """Whether the agent holds an attempt of a job running the project revision `digest` (hex, no `sha256:`)."""
    return _held(agent_id).where(Job.revision_hash.in_([digest, f"sha256:{digest}"])).exists()


def holds_input(agent_id: str, artifact: Artifact) -> bool:
    """Whether a held attempt's payload names `artifact`, and its job belongs to the artifact's account."""
    tasks = _held(agent_id).where(Job.account == artifact.account_id)
    return any(artifact.id in _strings(_payload(task)) for task in tasks)


def holds_attempt(agent_id: str, job_id: str, task_id: str, attempt: int | None = None) -> bool:
    """Whether the agent holds the running attempt of `task_id` of `job_id` (the current one, or `attempt`)."""
    task = _held(agent_id).where(Task.id == task_id, Task.job == job_id).first()
    return task is not None and (attempt is None or task.attempt == attempt)


def _payload(task: Task) -> Any:
    return task.payload if task.payload is not None else plan_of(task.job).task_payload(task.task_index)


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value (refs sit in `_artifacts.download`, in `*_ref` fields, in reduce payloads)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
