"""Job and task statuses, the sets they fall into, and the only moves allowed between them.

The status strings are API (job JSON, events, callbacks, metric labels) and are stored as they are:
`StrEnum` members compare equal to, hash like and serialise as their strings, so a status read back
from the database as a plain `str` is found in these sets and tables.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

from broker.errors import IllegalTransition


class JobStatus(enum.StrEnum):
    """Where a job is: `planning → queued → running → completed | partial | failed | cancelled`."""

    PLANNING = "planning"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TaskStatus(enum.StrEnum):
    """Where a task is: `queued → running → completed | failed | cancelled`; a retry goes back to `queued`."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


#: Job statuses after which nothing runs and nothing changes.
TERMINAL_JOB = frozenset({JobStatus.COMPLETED, JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.CANCELLED})
#: Job statuses whose tasks may be dispatched, claimed and finished.
ACTIVE_JOB = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})
#: Job statuses of jobs that have not ended: active, or planning behind their dependencies.
UNFINISHED_JOB = frozenset(JobStatus) - TERMINAL_JOB

#: Task statuses after which a task's attempt counter and results no longer change.
TERMINAL_TASK = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED})
#: Task statuses of tasks that have not ended.
UNFINISHED_TASK = frozenset(TaskStatus) - TERMINAL_TASK

_J, _T = JobStatus, TaskStatus
_S = TypeVar("_S", JobStatus, TaskStatus)

#: Every move a job may make (terminal statuses have none); `controller.jobs.outcomes` makes them.
JOB_TRANSITIONS: Mapping[JobStatus, frozenset[JobStatus]] = MappingProxyType(
    {
        # check_dependencies: all dependencies completed / one ended otherwise; cancel_job
        _J.PLANNING: frozenset({_J.QUEUED, _J.FAILED, _J.CANCELLED}),
        # claim_task: the first claim; fail_undispatchable: its task messages cannot be sent; cancel_job
        _J.QUEUED: frozenset({_J.RUNNING, _J.FAILED, _J.CANCELLED}),
        # finalize_job once every task ended; cancel_job
        _J.RUNNING: frozenset({_J.COMPLETED, _J.PARTIAL, _J.FAILED, _J.CANCELLED}),
    }
)

#: Every move a task may make (terminal statuses have none); `controller.jobs.outcomes` makes them.
TASK_TRANSITIONS: Mapping[TaskStatus, frozenset[TaskStatus]] = MappingProxyType(
    {
        # claim_task; the job ended early (cancelled, or failed as a whole) before the task started
        _T.QUEUED: frozenset({_T.RUNNING, _T.CANCELLED}),
        # claim_task: claimed again by the same agent (redelivery) or taken over from a lost one;
        # apply_result: a retry goes back to queued with the next attempt, or the attempt's outcome ends it;
        # claim_task fails it when its agents were lost too often; the job ended early
        _T.RUNNING: frozenset({_T.RUNNING, _T.QUEUED, _T.COMPLETED, _T.FAILED, _T.CANCELLED}),
    }
)


def job_transition(current: str, new: JobStatus) -> JobStatus:
    """The status a job in `current` moves to.

    Raises:
      IllegalTransition: the job lifecycle has no move from `current` to `new`.
    """
    return JobStatus(_checked("job", JOB_TRANSITIONS, current, new))


def task_transition(current: str, new: TaskStatus) -> TaskStatus:
    """The status a task in `current` moves to.

    Raises:
      IllegalTransition: the task lifecycle has no move from `current` to `new`.
    """
    return TaskStatus(_checked("task", TASK_TRANSITIONS, current, new))


def task_sources(new: TaskStatus) -> frozenset[TaskStatus]:
    """The task statuses from which a task may move to `new` (for bulk updates, which move many rows at once)."""
    return frozenset(current for current, targets in TASK_TRANSITIONS.items() if new in targets)


def _checked(kind: str, table: Mapping[_S, frozenset[_S]], current: str, new: _S) -> _S:
    # `current` is often the plain str the database returned: compared, not used as a typed key
    allowed = frozenset(target for status, targets in table.items() if status == current for target in targets)
    if new not in allowed:
        raise IllegalTransition(kind, current, new, allowed)
    return new
