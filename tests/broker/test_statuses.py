"""The job and task status enums, their sets, and the transition tables every status change goes through."""

from __future__ import annotations

import itertools
import json

import msgpack
import pytest

from broker.errors import IllegalTransition
from broker.statuses import (
    ACTIVE_JOB,
    JOB_TRANSITIONS,
    TASK_TRANSITIONS,
    TERMINAL_JOB,
    TERMINAL_TASK,
    UNFINISHED_JOB,
    UNFINISHED_TASK,
    JobStatus,
    TaskStatus,
    job_transition,
    task_sources,
    task_transition,
)

ALLOWED_JOB_MOVES = [
    ("planning", "queued"),
    ("planning", "failed"),
    ("planning", "cancelled"),
    ("queued", "running"),
    ("queued", "failed"),
    ("queued", "cancelled"),
    ("running", "completed"),
    ("running", "partial"),
    ("running", "failed"),
    ("running", "cancelled"),
]
ALLOWED_TASK_MOVES = [
    ("queued", "running"),
    ("queued", "cancelled"),
    ("running", "running"),
    ("running", "queued"),
    ("running", "completed"),
    ("running", "failed"),
    ("running", "cancelled"),
]
FORBIDDEN_JOB_MOVES = sorted(set(itertools.product(JobStatus, JobStatus)) - set(ALLOWED_JOB_MOVES))
FORBIDDEN_TASK_MOVES = sorted(set(itertools.product(TaskStatus, TaskStatus)) - set(ALLOWED_TASK_MOVES))


def test_the_statuses_are_the_strings_of_the_api() -> None:
    # Given the enums
    # When they are listed, Then they are today's API strings, in lifecycle order
    assert list(JobStatus) == ["planning", "queued", "running", "completed", "partial", "failed", "cancelled"]
    assert list(TaskStatus) == ["queued", "running", "completed", "failed", "cancelled"]


def test_a_status_serialises_as_its_plain_string_on_every_wire() -> None:
    # Given a status member
    status = TaskStatus.COMPLETED

    # When it is written as JSON, msgpack, and formatted
    # Then every form is the plain string
    assert json.dumps({"status": status}) == '{"status": "completed"}'
    assert msgpack.unpackb(msgpack.packb({"status": status})) == {"status": "completed"}
    assert (str(status), f"{status}") == ("completed", "completed")


def test_a_plain_string_read_from_the_database_is_found_in_the_sets_and_tables() -> None:
    # Given statuses as the database returns them: plain str
    # When they are looked up, Then they match the members (equal, same hash)
    assert "cancelled" in TERMINAL_JOB and "running" in ACTIVE_JOB and "planning" in UNFINISHED_JOB
    assert "failed" in TERMINAL_TASK and "queued" in UNFINISHED_TASK
    assert "planning" not in ACTIVE_JOB and "queued" not in TERMINAL_TASK
    assert job_transition("queued", JobStatus.RUNNING) is JobStatus.RUNNING


def test_the_sets_split_the_statuses() -> None:
    # Given the sets, Then terminal and unfinished statuses split every status, and active ones are unfinished
    assert set(JobStatus) == TERMINAL_JOB | UNFINISHED_JOB and not TERMINAL_JOB & UNFINISHED_JOB
    assert set(TaskStatus) == TERMINAL_TASK | UNFINISHED_TASK and not TERMINAL_TASK & UNFINISHED_TASK
    assert UNFINISHED_JOB - {JobStatus.PLANNING} == ACTIVE_JOB


def test_exactly_the_unfinished_statuses_have_moves_and_every_status_is_reachable() -> None:
    # Given the tables
    # When the statuses with outgoing moves and those reached from the initial ones are collected
    job_reached = {JobStatus.PLANNING, JobStatus.QUEUED} | set().union(*JOB_TRANSITIONS.values())
    task_reached = {TaskStatus.QUEUED} | set().union(*TASK_TRANSITIONS.values())

    # Then ended statuses have none, unfinished ones have some, and no status is unreachable
    assert set(JOB_TRANSITIONS) == UNFINISHED_JOB and set(TASK_TRANSITIONS) == UNFINISHED_TASK
    assert job_reached == set(JobStatus) and task_reached == set(TaskStatus)


@pytest.mark.parametrize(("current", "new"), ALLOWED_JOB_MOVES)
def test_every_allowed_job_move_passes(current: str, new: str) -> None:
    # Given a job in `current`
    # When it moves to `new`, Then the new status comes back as a member
    moved = job_transition(current, JobStatus(new))
    assert moved == new and isinstance(moved, JobStatus)


@pytest.mark.parametrize(("current", "new"), ALLOWED_TASK_MOVES)
def test_every_allowed_task_move_passes(current: str, new: str) -> None:
    # Given a task in `current`
    # When it moves to `new`, Then the new status comes back as a member
    moved = task_transition(current, TaskStatus(new))
    assert moved == new and isinstance(moved, TaskStatus)


@pytest.mark.parametrize(("current", "new"), FORBIDDEN_JOB_MOVES)
def test_every_other_job_move_raises(current: JobStatus, new: JobStatus) -> None:
    # Given a job in `current`
    # When it is asked to move to a status the table does not allow from there, Then it raises, naming both
    with pytest.raises(IllegalTransition, match=f"a job cannot move from '{current}' to '{new}'"):
        job_transition(str(current), new)


@pytest.mark.parametrize(("current", "new"), FORBIDDEN_TASK_MOVES)
def test_every_other_task_move_raises(current: TaskStatus, new: TaskStatus) -> None:
    # Given a task in `current`
    # When it is asked to move to a status the table does not allow from there, Then it raises, naming both
    with pytest.raises(IllegalTransition, match=f"a task cannot move from '{current}' to '{new}'"):
        task_transition(str(current), new)


def test_the_error_lists_the_moves_that_are_allowed() -> None:
    # Given a queued task
    # When it is asked to complete without running, Then the error says where it may go instead
    with pytest.raises(IllegalTransition) as raised:
        task_transition("queued", TaskStatus.COMPLETED)
    assert str(raised.value).endswith("from 'queued' it may move to cancelled, running")
    assert (raised.value.kind, raised.value.current, raised.value.new) == ("task", "queued", "completed")


def test_a_status_nobody_defined_has_no_moves() -> None:
    # Given a status string that is no status
    # When a job is asked to move from it, Then it raises
    with pytest.raises(IllegalTransition, match="may move to no other status"):
        job_transition("paused", JobStatus.RUNNING)


def test_the_statuses_a_task_may_be_cancelled_from_are_the_unfinished_ones() -> None:
    # Given the task table, When asked where a cancel may come from, Then it is from any unfinished status
    assert task_sources(TaskStatus.CANCELLED) == UNFINISHED_TASK
    assert task_sources(TaskStatus.COMPLETED) == {TaskStatus.RUNNING}
