"""Given states of the job state machine, each reached through the functions the controller itself calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import peewee as pw

from controller.accounts.models import Account
from controller.jobs import outcomes
from controller.jobs.models import Job, Task
from tests.controller.billing.support import claim, job_body, result, run_task, submit, tasks_of

RUN = "run"


class State(NamedTuple):
    """What a row checks afterwards: the task's status, attempt, agent and free retries, and its job's status."""

    task: str
    attempt: int
    agent: str
    free_retries: int
    job: str


def state_of(task_id: str) -> State:
    task = Task.get_by_id(task_id)
    return State(task.status, task.attempt, task.agent_id, task.free_retries, Job.get_by_id(task.job_id).status)


def write(db: pw.Database, fn: Callable[..., Any], *args: Any) -> Any:
    """One write transaction, as `Store.write` runs each state change."""
    with db.atomic():
        return fn(*args)


# -- given states (each returns the task the event is about) ----------------------------------------------------


def queued(db: pw.Database, account: Account, tasks: int = 1, max_retries: int = 0, **body: Any) -> Task:
    """A job just submitted: its task is queued (`body` adds fields to the job; a None removes one)."""
    fields = {**job_body(tasks=tasks, max_retries=max_retries), **body}
    job = write(db, submit, account, {name: value for name, value in fields.items() if value is not None})
    return tasks_of(job)[0]


def running(db: pw.Database, account: Account, tasks: int = 1, max_retries: int = 0) -> Task:
    """agent-1 claimed the job's first task."""
    task = queued(db, account, tasks, max_retries)
    assert write(db, claim, task.id, task.attempt).run
    return Task.get_by_id(task.id)


def running_of_two(db: pw.Database, account: Account) -> Task:
    """The first task of a two-task job runs; the second is still queued."""
    return running(db, account, tasks=2)


def second_queued(db: pw.Database, account: Account) -> Task:
    """The second task of a two-task job whose first task runs."""
    first = running_of_two(db, account)
    return tasks_of(first.job)[1]


def running_with_a_retry(db: pw.Database, account: Account) -> Task:
    """A running task of a job with max_retries 1."""
    return running(db, account, max_retries=1)


def retried(db: pw.Database, account: Account) -> Task:
    """Attempt 1 failed in the user's code and was retried: attempt 2 is queued."""
    task = running_with_a_retry(db, account)
    assert write(db, outcomes.apply_result, result(task, "failed")).retried
    return Task.get_by_id(task.id)


def lost_too_often(db: pw.Database, account: Account) -> Task:
    """The platform lost three attempts (the most it retries for free); agent-1 runs attempt 4."""
    task = queued(db, account)
    for _ in range(outcomes.MAX_FREE_RETRIES):
        assert write(db, claim, task.id, task.attempt).run
        assert write(db, outcomes.apply_result, result(Task.get_by_id(task.id), "failed", counts=False)).retried
        task = Task.get_by_id(task.id)
    assert write(db, claim, task.id, task.attempt).run
    return Task.get_by_id(task.id)


def completed(db: pw.Database, account: Account) -> Task:
    """The job's only task completed, so the job did."""
    task = queued(db, account)
    run_task(db, task.id)
    return Task.get_by_id(task.id)


def cancelled_while_queued(db: pw.Database, account: Account) -> Task:
    """The job was cancelled before its task started."""
    task = queued(db, account)
    write(db, outcomes.cancel_job, task.job_id)
    return Task.get_by_id(task.id)


def cancelled_while_running(db: pw.Database, account: Account) -> Task:
    """The job was cancelled while agent-1 ran its task."""
    task = running(db, account)
    write(db, outcomes.cancel_job, task.job_id)
    return Task.get_by_id(task.id)


def planning(db: pw.Database, account: Account) -> Task:
    """A job waiting on another job that has not ended."""
    dependency = queued(db, account)
    return queued(db, account, depends_on=[dependency.job_id])
