"""The job state machine's other events, one table each: dependencies, cancel_job, dispatch failures and the
reaper's lost-attempt branch, on a real SQLite database (claims, results and finalization: test_state_machine.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import peewee as pw
import pytest

from controller.accounts.models import Account
from controller.jobs import outcomes
from controller.jobs.models import Job, Task
from tests.controller.billing.support import claim, run_task, tasks_of
from tests.controller.jobs.states import (
    State,
    cancelled_while_queued,
    completed,
    lost_too_often,
    planning,
    queued,
    running,
    state_of,
    write,
)

# -- dependencies ---------------------------------------------------------------------------------------------------


def dependency_in(db: pw.Database, account: Account, status: str) -> Job:
    """A one-task job brought to `status` (queued, running, completed, failed or cancelled)."""
    task = queued(db, account)
    if status == "running":
        write(db, claim, task.id)
    elif status in ("completed", "failed"):
        run_task(db, task.id, status)
    elif status == "cancelled":
        write(db, outcomes.cancel_job, task.job_id)
    job = Job.get_by_id(task.job_id)
    assert job.status == status
    return job


DEPENDENCIES = [
    # the dependency's status when the dependent is submitted, then the dependent's status and error code
    pytest.param("queued", "planning", None, id="queued"),
    pytest.param("running", "planning", None, id="running"),
    pytest.param("completed", "queued", None, id="completed"),
    pytest.param("failed", "failed", "dependency_failed", id="failed"),
    pytest.param("cancelled", "failed", "dependency_failed", id="cancelled"),
]


@pytest.mark.parametrize(("dependency", "status", "code"), DEPENDENCIES)
def test_a_dependent_job_starts_as_its_dependency_row_says(
    db: pw.Database, account: Account, dependency: str, status: str, code: str | None
) -> None:
    # Given a job in the row's status
    upstream = dependency_in(db, account, dependency)

    # When a job depending on it is submitted
    task = queued(db, account, depends_on=[upstream.id])

    # Then the dependent waits, is queued or has failed (its task cancelled) as the row says
    job = Job.get_by_id(task.job_id)
    assert (job.status, job.error_code) == (status, code)
    assert Task.get_by_id(task.id).status == ("cancelled" if status == "failed" else "queued")


RELEASES = [
    # how the dependency ends while the dependent waits, then the dependent's status and error code
    pytest.param("completed", "queued", None, id="completed"),
    pytest.param("failed", "failed", "dependency_failed", id="failed"),
    pytest.param("cancelled", "failed", "dependency_failed", id="cancelled"),
]


@pytest.mark.parametrize(("ends", "status", "code"), RELEASES)
def test_a_waiting_job_moves_on_when_its_dependency_ends(
    db: pw.Database, account: Account, ends: str, status: str, code: str | None
) -> None:
    # Given a job planning behind a queued dependency
    task = planning(db, account)
    (upstream,) = Job.select().where(Job.id != task.job_id)

    # When the dependency ends as the row says
    if ends == "cancelled":
        write(db, outcomes.cancel_job, upstream.id)
    else:
        run_task(db, tasks_of(upstream)[0].id, ends)

    # Then the dependent moves on as the row says
    job = Job.get_by_id(task.job_id)
    assert (job.status, job.error_code) == (status, code)


# -- cancel_job -------------------------------------------------------------------------------------------------

CANCELS = [
    # given, whether this cancel changed the job, then the job's and the task's status
    pytest.param(planning, True, "cancelled", "cancelled", id="planning"),
    pytest.param(queued, True, "cancelled", "cancelled", id="queued"),
    pytest.param(running, True, "cancelled", "cancelled", id="running"),
    pytest.param(completed, False, "completed", "completed", id="completed"),
    pytest.param(cancelled_while_queued, False, "cancelled", "cancelled", id="cancelled"),
]


@pytest.mark.parametrize(("given", "changed", "job_status", "task_status"), CANCELS)
def test_a_cancel_ends_an_unfinished_job_and_leaves_an_ended_one(
    db: pw.Database, account: Account, given: Callable[..., Task], changed: bool, job_status: str, task_status: str
) -> None:
    # Given the row's state
    task = given(db, account)

    # When the user cancels the job
    job, did = write(db, outcomes.cancel_job, task.job_id)

    # Then an unfinished job and its unfinished tasks are cancelled; an ended job is left as it ended
    assert (did, job.status, Task.get_by_id(task.id).status) == (changed, job_status, task_status)


# -- fail_undispatchable -----------------------------------------------------------------------------------------

UNDISPATCHABLE = [
    # given, then the job's and the task's status and the job's error code
    pytest.param(queued, "failed", "cancelled", "dispatch_failed", id="queued"),
    pytest.param(running, "failed", "cancelled", "dispatch_failed", id="running"),
    pytest.param(completed, "completed", "completed", None, id="completed"),
    pytest.param(cancelled_while_queued, "cancelled", "cancelled", "cancelled", id="cancelled"),
]


@pytest.mark.parametrize(("given", "job_status", "task_status", "code"), UNDISPATCHABLE)
def test_a_job_whose_messages_cannot_be_sent_fails_unless_it_already_ended(
    db: pw.Database, account: Account, given: Callable[..., Task], job_status: str, task_status: str, code: str | None
) -> None:
    # Given the row's state
    task = given(db, account)

    # When the dispatcher reports that the job's task messages cannot be built or sent
    write(db, outcomes.fail_undispatchable, {task.job_id: "task 0's message cannot be built"})

    # Then an unfinished job fails with dispatch_failed and its unfinished tasks are cancelled; an ended one is kept
    job = Job.get_by_id(task.job_id)
    assert (job.status, Task.get_by_id(task.id).status, job.error_code) == (job_status, task_status, code)


# -- reap_lost_tasks --------------------------------------------------------------------------------------------

REAPS = [
    # given, whether the task's agent reports running it, cutoff (seconds from now), requeued?, state after
    pytest.param(running, False, 1.0, True, State("queued", 2, "", 1, "running"), id="agent-gone"),
    pytest.param(running, True, 1.0, False, State("running", 1, "agent-1", 0, "running"), id="agent-runs-it"),
    pytest.param(running, False, -3600.0, False, State("running", 1, "agent-1", 0, "running"), id="claimed-recently"),
    pytest.param(lost_too_often, False, 1.0, True, State("failed", 4, "agent-1", 3, "failed"), id="lost-too-often"),
]


@pytest.mark.parametrize(("given", "alive", "cutoff_s", "reaped", "after"), REAPS)
def test_the_reaper_requeues_the_tasks_of_lost_agents_as_its_row_says(
    db: pw.Database,
    account: Account,
    given: Callable[..., Task],
    alive: bool,
    cutoff_s: float,
    reaped: bool,
    after: State,
) -> None:
    # Given the row's running task
    task = given(db, account)

    # When the reaper runs with the row's roster and cutoff
    got = write(db, outcomes.reap_lost_tasks, lambda agent_id, task_id: alive, time.time() + cutoff_s)

    # Then the task is requeued as a free retry (or failed, once lost too often) or left running
    assert got == ([task.id] if reaped else [])
    assert state_of(task.id) == after
