"""Holds and settlement driven through controller.jobs.records on a real SQLite database, with the ledger invariants
of PLATFORM.md checked after every scenario."""

from __future__ import annotations

import peewee as pw
import pytest

from controller.billing import accounts, holds, ledger
from controller.billing.errors import Shortfall
from controller.billing.models import Hold, LedgerEntry
from controller.jobs import outcomes, presets
from controller.jobs.models import Job, Task
from tests.controller.billing.support import (
    check_invariants,
    claim,
    expected_charge,
    job_body,
    new_account,
    result,
    run_task,
    submit,
    tasks_of,
)

RATE = presets.resolve(None).micro_usd_per_hour
DOLLAR = ledger.MICRO_PER_USD


def test_a_submit_holds_tasks_times_timeout_times_rate_times_attempts(db: pw.Database) -> None:
    # Given an account with $10
    account = new_account(db, 10 * DOLLAR)

    # When it submits 3 tasks of 600 s with 2 retries each
    with db.atomic():
        job = submit(account, job_body(tasks=3, timeout_s=600, max_retries=2))

    # Then the hold is 3 × 600 s × rate × 3 attempts, rounded up, and only the available balance changed
    hold = Hold.get(Hold.job == job.id)
    assert hold.amount_micro == ledger.ceil_div(3 * 600 * RATE * 3, 3600)
    balance = accounts.balance(account.id)
    assert (balance.ledger_micro, balance.held_micro) == (10 * DOLLAR, hold.amount_micro)
    check_invariants({account.id: 10 * DOLLAR})


def test_a_submit_the_account_cannot_cover_creates_nothing(db: pw.Database) -> None:
    # Given an account whose balance is one micro-dollar short of a job's hold
    body = job_body(tasks=2, timeout_s=3600)
    needed = ledger.hold_micro(2, 3600, RATE, 0)
    account = new_account(db, needed - 1)

    # When it submits the job
    with pytest.raises(Shortfall) as refused, db.atomic():
        submit(account, body)

    # Then the refusal names the amounts, and no job, task or hold exists
    assert (refused.value.required_micro, refused.value.available_micro) == (needed, needed - 1)
    assert (Job.select().count(), Task.select().count(), Hold.select().count()) == (0, 0, 0)
    check_invariants({account.id: needed - 1})


def test_a_completed_job_is_charged_its_task_seconds_and_the_rest_is_released(db: pw.Database) -> None:
    # Given a job of two tasks
    account = new_account(db, DOLLAR)
    with db.atomic():
        job = submit(account, job_body(tasks=2, timeout_s=600))

    # When they complete after 90 s and 30.5 s
    first, second = tasks_of(job)
    run_task(db, first.id, duration_ms=90_000)
    run_task(db, second.id, duration_ms=30_500)

    # Then the job is charged 120.5 task-seconds at its rate, once, and nothing stays held
    hold = Hold.get(Hold.job == job.id)
    assert (Job.get_by_id(job.id).status, hold.status, hold.used_ms) == ("completed", "settled", 120_500)
    assert hold.charged_micro == ledger.ceil_div(120_500 * RATE, ledger.MS_PER_HOUR)
    assert accounts.balance(account.id).available_micro == DOLLAR - hold.charged_micro
    check_invariants({account.id: DOLLAR})


def test_a_partial_job_pays_for_its_failed_and_completed_tasks(db: pw.Database) -> None:
    account = new_account(db, DOLLAR)
    with db.atomic():
        job = submit(account, job_body(tasks=2, timeout_s=600))
    first, second = tasks_of(job)

    run_task(db, first.id, "completed", 10_000)
    run_task(db, second.id, "failed", 5_000)

    assert Job.get_by_id(job.id).status == "partial"
    assert Hold.get(Hold.job == job.id).charged_micro == expected_charge(job, 15_000)
    check_invariants({account.id: DOLLAR})


def test_a_failed_job_pays_for_the_attempts_that_ran(db: pw.Database) -> None:
    account = new_account(db, DOLLAR)
    with db.atomic():
        job = submit(account, job_body(tasks=1, timeout_s=600))

    run_task(db, tasks_of(job)[0].id, "failed", 7_000)

    assert Job.get_by_id(job.id).status == "failed"
    assert Hold.get(Hold.job == job.id).charged_micro == expected_charge(job, 7_000)
    check_invariants({account.id: DOLLAR})


def test_every_retried_attempt_is_charged_and_lost_agents_are_free(db: pw.Database) -> None:
    # Given a one-task job with one retry
    account = new_account(db, DOLLAR)
    with db.atomic():
        job = submit(account, job_body(tasks=1, timeout_s=600, max_retries=1))
    task_id = tasks_of(job)[0].id

    # When the first attempt is lost by the platform, the second fails in the user's code, the third completes
    with db.atomic():
        assert claim(task_id, 1).run
    with db.atomic():
        assert outcomes.apply_result(result(Task.get_by_id(task_id), "failed", 50_000, counts=False)).retried
    with db.atomic():
        assert claim(task_id, 2).run
    with db.atomic():
        assert outcomes.apply_result(result(Task.get_by_id(task_id), "failed", 4_000)).retried
    run_task(db, task_id, "completed", 6_000)

    # Then the two attempts in which the command ran are charged; the lost one is not
    hold = Hold.get(Hold.job == job.id)
    assert (Job.get_by_id(job.id).status, hold.used_ms) == ("completed", 10_000)
    assert hold.charged_micro == expected_charge(job, 10_000)
    check_invariants({account.id: DOLLAR})


def test_an_attempt_is_charged_at_most_its_timeout(db: pw.Database) -> None:
    account = new_account(db, DOLLAR)
    with db.atomic():
        job = submit(account, job_body(tasks=1, timeout_s=10))

    run_task(db, tasks_of(job)[0].id, "failed", 12_000)  # killed 2 s after its timeout

    assert Hold.get(Hold.job == job.id).used_ms == 10_000
    check_invariants({account.id: DOLLAR})


def test_a_cancel_charges_running_attempts_up_to_the_cancel_and_nothing_for_queued_ones(db: pw.Database) -> None:
    # Given a job with one completed task, one running and one queued
    account = new_account(db, DOLLAR)
    with db.atomic():
        job = submit(account, job_body(tasks=3, timeout_s=600))
    done, running, _queued = tasks_of(job)
    run_task(db, done.id, "completed", 2_000)
    with db.atomic():
        assert claim(running.id).run
    claimed_at = Task.get_by_id(running.id).claimed_at

    # When the job is cancelled
    with db.atomic():
        cancelled, changed = outcomes.cancel_job(job.id)

    # Then the charge covers the finished attempt and the running one until the cancel
    assert changed and cancelled.status == "cancelled"
    used = 2_000 + ledger.attempt_ms(claimed_at, cancelled.finished_at, 600)
    hold = Hold.get(Hold.job == job.id)
    assert (hold.status, hold.used_ms, hold.charged_micro) == ("settled", used, expected_charge(job, used))
    check_invariants({account.id: DOLLAR})


def test_a_job_cancelled_before_it_ran_costs_nothing(db: pw.Database) -> None:
    account = new_account(db, DOLLAR)
    with db.atomic():
        job = submit(account, job_body(tasks=2))
    with db.atomic():
        outcomes.cancel_job(job.id)

    assert Hold.get(Hold.job == job.id).charged_micro == 0
    assert not LedgerEntry.select().where(LedgerEntry.kind == "charge").exists()
    assert accounts.balance(account.id).available_micro == DOLLAR
    check_invariants({account.id: DOLLAR})


def test_a_duplicate_result_changes_nothing(db: pw.Database) -> None:
    # Given a one-task job whose result was applied
    account = new_account(db, DOLLAR)
    with db.atomic():
        job = submit(account, job_body(tasks=1))
    task_id = tasks_of(job)[0].id
    with db.atomic():
        assert claim(task_id).run
    delivered = result(Task.get_by_id(task_id), "completed", 3_000)
    with db.atomic():
        assert outcomes.apply_result(delivered) is not None
    before = accounts.balance(account.id)

    # When the broker delivers the same result again
    with db.atomic():
        again = outcomes.apply_result(delivered)

    # Then it is ignored: one charge, the same balance
    assert again is None
    assert accounts.balance(account.id) == before
    assert LedgerEntry.select().where(LedgerEntry.kind == "charge").count() == 1
    check_invariants({account.id: DOLLAR})


class Crash(Exception):
    """The controller dying inside a write transaction."""


def test_a_crash_before_the_final_result_commits_settles_once_when_it_is_redelivered(db: pw.Database) -> None:
    # Given a one-task job whose result is being applied when the controller dies before the commit
    account = new_account(db, DOLLAR)
    with db.atomic():
        job = submit(account, job_body(tasks=1))
    task_id = tasks_of(job)[0].id
    with db.atomic():
        assert claim(task_id).run
    delivered = result(Task.get_by_id(task_id), "completed", 4_000)
    with pytest.raises(Crash), db.atomic():
        outcomes.apply_result(delivered)
        raise Crash

    # Then neither the terminal status nor the settlement happened
    assert Job.get_by_id(job.id).status == "running"
    assert Hold.get(Hold.job == job.id).status == "active"
    check_invariants({account.id: DOLLAR})

    # When the broker redelivers the result after the restart (twice, for good measure)
    for _ in range(2):
        with db.atomic():
            outcomes.apply_result(delivered)

    # Then the job settled exactly once
    hold = Hold.get(Hold.job == job.id)
    assert (hold.status, hold.charged_micro) == ("settled", expected_charge(job, 4_000))
    assert LedgerEntry.select().where(LedgerEntry.kind == "charge").count() == 1
    check_invariants({account.id: DOLLAR})


def test_the_startup_sweep_settles_a_job_that_ended_without_settling_once(db: pw.Database) -> None:
    # Given a job that ended through a path that skipped its settlement (an older controller, a crash)
    account = new_account(db, DOLLAR)
    with db.atomic():
        job = submit(account, job_body(tasks=1))
    run_task_id = tasks_of(job)[0].id
    with db.atomic():
        assert claim(run_task_id).run
    with db.atomic():
        holds.add_usage(job.id, 5_000)
        Job.update(status="failed", finished_at=2e6).where(Job.id == job.id).execute()

    # When the controller starts, twice
    with db.atomic():
        first = holds.sweep()
    with db.atomic():
        second = holds.sweep()

    # Then the hold is settled once, for what was metered
    assert (first, second) == (1, 0)
    assert Hold.get(Hold.job == job.id).charged_micro == expected_charge(job, 5_000)
    check_invariants({account.id: DOLLAR})


def test_settling_twice_charges_once(db: pw.Database) -> None:
    account = new_account(db, DOLLAR)
    with db.atomic():
        job = submit(account, job_body(tasks=1))
    run_task(db, tasks_of(job)[0].id, "completed", 1_000)

    with db.atomic():
        assert holds.settle(Job.get_by_id(job.id), 3e6) is None

    assert LedgerEntry.select().where(LedgerEntry.kind == "charge").count() == 1
    check_invariants({account.id: DOLLAR})


def test_an_admin_debit_never_takes_the_available_balance_below_zero(db: pw.Database) -> None:
    from controller.billing.errors import InsufficientFunds

    # Given $1 with $0.40 of it held by a job
    account = new_account(db, DOLLAR)
    with db.atomic():
        submit(account, job_body(tasks=1, timeout_s=36_000))  # 10 h at $0.04/h
    available = accounts.balance(account.id).available_micro

    # When an admin debits more than is available, then exactly what is available
    with pytest.raises(InsufficientFunds), db.atomic():
        accounts.debit(account.id, available + 1, "too much")
    with db.atomic():
        accounts.debit(account.id, available, "all of it")

    # Then nothing is available and the ledger shows the debit
    assert accounts.balance(account.id).available_micro == 0
    check_invariants({account.id: DOLLAR - available})


def test_a_credit_that_would_take_an_account_over_a_billion_dollars_is_refused(db: pw.Database) -> None:
    from controller.billing.errors import BalanceLimitExceeded

    # Given an account one dollar short of the largest balance
    account = new_account(db, DOLLAR)
    with db.atomic():
        accounts.add_entry(account.id, "credit", ledger.MAX_BALANCE_MICRO - 2 * DOLLAR)

    # When it is credited two dollars, then one
    with pytest.raises(BalanceLimitExceeded) as refused, db.atomic():
        accounts.credit(account.id, 2 * DOLLAR, "too much")
    with db.atomic():
        accounts.credit(account.id, DOLLAR, "exactly up to the limit")

    # Then only the second is in the ledger, the refusal said how much still fit, and the sum reads back
    assert refused.value.details["room_usd"] == 1
    assert accounts.balance(account.id).ledger_micro == ledger.MAX_BALANCE_MICRO


@pytest.mark.parametrize("micro", [0, ledger.MAX_AMOUNT_MICRO + 1, 2**62])
def test_a_credit_or_debit_outside_the_amount_bounds_is_refused_and_writes_nothing(db: pw.Database, micro: int) -> None:
    # Given a $1 account
    account = new_account(db, DOLLAR)
    # When it is credited or debited an amount out of bounds, Then each is refused
    for move in (accounts.credit, accounts.debit):
        with pytest.raises(ValueError), db.atomic():
            move(account.id, micro, "out of bounds")
    # And the ledger still holds the dollar alone
    assert accounts.balance(account.id).ledger_micro == DOLLAR
