"""The job state machine, one table per event: claim_task, apply_result and finalize_job (through the last result),
on a real SQLite database (dependencies, cancel, dispatch failures and the reaper: test_job_endings.py).

Each row is (given state, event, expected answer and state). Every given state is reached through the functions
the controller itself calls, one transaction each, so no row starts from a state the controller cannot produce.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import NamedTuple

import peewee as pw
import pytest

from broker.errors import IllegalTransition
from controller.accounts.models import Account
from controller.jobs import outcomes
from controller.jobs.models import Job, Task
from tests.controller.billing.support import claim, result, run_task, tasks_of
from tests.controller.jobs.states import (
    RUN,
    State,
    cancelled_while_queued,
    cancelled_while_running,
    completed,
    lost_too_often,
    planning,
    queued,
    retried,
    running,
    running_of_two,
    running_with_a_retry,
    second_queued,
    state_of,
    write,
)

# -- claim_task ---------------------------------------------------------------------------------------------------

CLAIMS = [
    # given, claiming agent, attempt offset, whether the task's agent reports running it, answer, state after
    pytest.param(queued, "agent-1", 0, False, RUN, State("running", 1, "agent-1", 0, "running"), id="first-claim"),
    pytest.param(
        second_queued, "agent-2", 0, False, RUN, State("running", 1, "agent-2", 0, "running"), id="later-claim"
    ),
    pytest.param(
        running, "agent-1", 0, False, RUN, State("running", 1, "agent-1", 0, "running"), id="same-agent-again"
    ),
    pytest.param(
        running,
        "agent-1",
        0,
        True,
        "duplicate delivery",
        State("running", 1, "agent-1", 0, "running"),
        id="same-agent-duplicate",
    ),
    pytest.param(
        running,
        "agent-2",
        0,
        True,
        "duplicate delivery",
        State("running", 1, "agent-1", 0, "running"),
        id="duplicate-delivery",
    ),
    pytest.param(running, "agent-2", 0, False, RUN, State("running", 1, "agent-2", 1, "running"), id="lost-agent"),
    pytest.param(
        lost_too_often,
        "agent-2",
        0,
        False,
        "agent lost too many times",
        State("failed", 4, "agent-1", 3, "failed"),
        id="lost-too-often",
    ),
    pytest.param(
        running, "agent-2", 1, False, "stale attempt 2", State("running", 1, "agent-1", 0, "running"), id="future"
    ),
    pytest.param(retried, "agent-1", -1, False, "stale attempt 1", State("queued", 2, "", 0, "running"), id="stale"),
    pytest.param(
        completed,
        "agent-2",
        0,
        False,
        "task is completed in a completed job",
        State("completed", 1, "agent-1", 0, "completed"),
        id="completed",
    ),
    pytest.param(
        cancelled_while_queued,
        "agent-1",
        0,
        False,
        "task is cancelled in a cancelled job",
        State("cancelled", 1, "", 0, "cancelled"),
        id="cancelled",
    ),
    pytest.param(
        planning,
        "agent-1",
        0,
        False,
        "task is queued in a planning job",
        State("queued", 1, "", 0, "planning"),
        id="planning",
    ),
]


@pytest.mark.parametrize(("given", "agent", "offset", "alive", "answer", "after"), CLAIMS)
def test_a_claim_answers_and_moves_the_task_as_its_row_says(
    db: pw.Database,
    account: Account,
    given: Callable[..., Task],
    agent: str,
    offset: int,
    alive: bool,
    answer: str,
    after: State,
) -> None:
    # Given the row's state
    task = given(db, account)

    # When an agent claims the attempt (its predecessor's agent alive or not)
    got = write(db, outcomes.claim_task, task.id, task.attempt + offset, agent, lambda agent_id, task_id: alive)

    # Then it runs or is refused for the row's reason, and the task and job are where the row says
    assert got.run == (answer == RUN)
    assert got.reason.startswith(answer) if answer != RUN else got.reason == ""
    assert state_of(task.id) == after


def test_a_claim_of_an_unknown_task_is_refused(db: pw.Database) -> None:
    # Given an empty database
    # When an agent claims a task id nobody planned
    got = write(db, claim, "tsk_nope_0")

    # Then it is refused
    assert got == outcomes.Claim(False, "unknown task")


# -- apply_result -------------------------------------------------------------------------------------------------


class Expected(NamedTuple):
    """`Applied`'s job status, task status and whether the task was retried."""

    job_status: str
    task_status: str
    retried: bool


RESULTS = [
    # given, result status, counts as an attempt, attempt offset, Applied (None: ignored), state after
    pytest.param(
        running,
        "completed",
        True,
        0,
        Expected("completed", "completed", False),
        State("completed", 1, "agent-1", 0, "completed"),
        id="last-task-completes",
    ),
    pytest.param(
        running_of_two,
        "completed",
        True,
        0,
        Expected("running", "completed", False),
        State("completed", 1, "agent-1", 0, "running"),
        id="one-of-two-completes",
    ),
    pytest.param(
        running_of_two,
        "failed",
        True,
        0,
        Expected("running", "failed", False),
        State("failed", 1, "agent-1", 0, "running"),
        id="one-of-two-fails",
    ),
    pytest.param(
        running_with_a_retry,
        "failed",
        True,
        0,
        Expected("running", "queued", True),
        State("queued", 2, "", 0, "running"),
        id="retried",
    ),
    pytest.param(
        running,
        "failed",
        True,
        0,
        Expected("failed", "failed", False),
        State("failed", 1, "agent-1", 0, "failed"),
        id="no-retry-left",
    ),
    pytest.param(
        running,
        "failed",
        False,
        0,
        Expected("running", "queued", True),
        State("queued", 2, "", 1, "running"),
        id="platform-failure-retried-free",
    ),
    pytest.param(
        lost_too_often,
        "failed",
        False,
        0,
        Expected("failed", "failed", False),
        State("failed", 4, "agent-1", 3, "failed"),
        id="platform-failure-too-often",
    ),
    pytest.param(
        running_with_a_retry,
        "cancelled",
        True,
        0,
        Expected("failed", "cancelled", False),
        State("cancelled", 1, "agent-1", 0, "failed"),
        id="cancelled-is-never-retried",
    ),
    pytest.param(
        completed,
        "completed",
        True,
        0,
        None,
        State("completed", 1, "agent-1", 0, "completed"),
        id="duplicate-delivery",
    ),
    pytest.param(retried, "failed", True, -1, None, State("queued", 2, "", 0, "running"), id="stale-attempt"),
    pytest.param(
        cancelled_while_running,
        "cancelled",
        True,
        0,
        None,
        State("cancelled", 1, "agent-1", 0, "cancelled"),
        id="after-the-job-was-cancelled",
    ),
]


@pytest.mark.parametrize(("given", "status", "counts", "offset", "applied", "after"), RESULTS)
def test_a_result_is_applied_or_ignored_as_its_row_says(
    db: pw.Database,
    account: Account,
    given: Callable[..., Task],
    status: str,
    counts: bool,
    offset: int,
    applied: Expected | None,
    after: State,
) -> None:
    # Given the row's state
    task = given(db, account)
    delivered = dataclasses.replace(result(task, status, counts=counts), attempt=task.attempt + offset)

    # When the result of the attempt arrives
    got = write(db, outcomes.apply_result, delivered)

    # Then it is applied (or ignored) and the task and job are where the row says
    assert (got and Expected(got.job_status, got.task_status, got.retried)) == applied
    assert state_of(task.id) == after


def test_a_result_for_an_attempt_nobody_claimed_is_ignored_and_changes_nothing(
    db: pw.Database, account: Account
) -> None:
    # Given a queued task no agent claimed
    task = queued(db, account)

    # When a result for its attempt arrives anyway (agents claim before they run: only a forged one can)
    got = write(db, outcomes.apply_result, result(task))

    # Then it is ignored, like a duplicate, and the task and job are as they were
    assert got is None
    assert state_of(task.id) == State("queued", 1, "", 0, "queued")


def test_a_result_for_an_unknown_task_is_ignored(db: pw.Database, account: Account) -> None:
    # Given a running task
    task = running(db, account)

    # When a result names a task id nobody planned
    got = write(db, outcomes.apply_result, dataclasses.replace(result(task), task_id="tsk_nope_0"))

    # Then nothing is applied
    assert got is None
    assert state_of(task.id) == State("running", 1, "agent-1", 0, "running")


# -- finalize_job (through the result of the last task) -----------------------------------------------------------

FINALS = [
    # how the first task ended, how the last one ends, job status, error code, error
    pytest.param("completed", "completed", "completed", None, None, id="all-completed"),
    pytest.param(
        "completed",
        "failed",
        "partial",
        "exit_code",
        "1 of 2 tasks failed; first failure (task 1): it failed",
        id="some-failed",
    ),
    pytest.param(
        "failed", "failed", "failed", "exit_code", "2 of 2 tasks failed; first failure (task 0): it failed", id="none"
    ),
    pytest.param(
        "cancelled",
        "completed",
        "partial",
        "exit_code",
        "1 of 2 tasks failed; first failure (task 0): it failed",
        id="one-cancelled",
    ),
]


@pytest.mark.parametrize(("first", "last", "job_status", "code", "error"), FINALS)
def test_the_last_result_finalizes_the_job_as_its_row_says(
    db: pw.Database, account: Account, first: str, last: str, job_status: str, code: str | None, error: str | None
) -> None:
    # Given a two-task job whose first task ended as the row says
    task = queued(db, account, tasks=2)
    one, two = tasks_of(task.job)
    run_task(db, one.id, first)
    assert Job.get_by_id(task.job_id).status == "running"

    # When the last task ends
    run_task(db, two.id, last)

    # Then the job ends with the row's status and error
    job = Job.get_by_id(task.job_id)
    assert (job.status, job.error_code, job.error, job.finished_count) == (job_status, code, error, 2)


def test_a_map_reduce_job_gets_its_reduce_task_after_the_maps_and_ends_with_it(
    db: pw.Database, account: Account
) -> None:
    # Given a map_reduce job of two maps and a reduce command
    body = {"type": "map_reduce", "split": {"by": "i"}, "reduce": {"runner_command": ["reduce"]}, "fan_out": None}
    task = queued(db, account, tasks=2, **body)
    maps = tasks_of(task.job)

    # When both maps complete
    for mapped in maps:
        run_task(db, mapped.id)

    # Then the job keeps running with a third, queued task: the reduce
    job = Job.get_by_id(task.job_id)
    reducer = tasks_of(job)[2]
    assert (job.status, job.task_count, reducer.status, reducer.command) == ("running", 3, "queued", ["reduce"])

    # When the reduce task completes, the job completes with its result
    run_task(db, reducer.id)
    job = Job.get_by_id(task.job_id)
    assert (job.status, job.aggregate) == ("completed", {"ok": True})


def test_finalizing_a_job_that_already_ended_fails_loudly(db: pw.Database, account: Account) -> None:
    # Given a job that completed
    task = completed(db, account)
    job = Job.get_by_id(task.job_id)

    # When something tries to finalize it again, it raises instead of rewriting its outcome
    with pytest.raises(IllegalTransition, match="a job cannot move from 'completed' to 'completed'"):
        write(db, outcomes.finalize_job, job, time.time())
    assert Job.get_by_id(job.id).status == "completed"
