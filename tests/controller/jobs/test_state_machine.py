"""The job state machine, one table per event: claim_task, apply_result, finalize_job (through the last result),
dependencies, cancel_job and the reaper's lost-agent branch, on a real SQLite database.

Each row is (given state, event, expected answer and state). Every given state is reached through the functions
the controller itself calls, one transaction each, so no row starts from a state the controller cannot produce.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import peewee as pw
import pytest

from broker.errors import IllegalTransition
from controller.accounts.models import Account
from controller.billing import ledger
from controller.jobs import outcomes
from controller.jobs.models import Job, Task
from tests.controller.billing.support import claim, job_body, new_account, result, run_task, submit, tasks_of

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


@pytest.fixture
def account(db: pw.Database) -> Account:
    return new_account(db, 100 * ledger.MICRO_PER_USD)


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


# -- claim_task ---------------------------------------------------------------------------------------------------

CLAIMS = [
    # given, claiming agent, attempt offset, whether the task's agent is alive, answer, state after
    pytest.param(queued, "agent-1", 0, False, RUN, State("running", 1, "agent-1", 0, "running"), id="first-claim"),
    pytest.param(
        second_queued, "agent-2", 0, False, RUN, State("running", 1, "agent-2", 0, "running"), id="later-claim"
    ),
    pytest.param(
        running, "agent-1", 0, False, RUN, State("running", 1, "agent-1", 0, "running"), id="same-agent-again"
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
