"""Random sequences of submits, claims, results (duplicated, retried, crashing), cancels, credits and restarts,
against controller.jobs.records and the billing functions on a real SQLite database; the money invariants hold after
every step and each job is charged exactly the task-time the test saw it use."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from broker.messages import TaskResult
from broker.statuses import UNFINISHED_JOB
from controller.billing import holds, ledger
from controller.billing.errors import Shortfall
from controller.billing.models import Hold
from controller.jobs import outcomes
from controller.jobs.models import Job, Task
from controller.schema import open_database
from tests.controller.billing.support import check_invariants, claim, job_body, new_account, result, submit

DOLLAR = ledger.MICRO_PER_USD


class Crash(Exception):
    pass


def pick(data: st.DataObject, candidates: list) -> object:
    """One of `candidates`, drawn by an index whose range never depends on the database, so that hypothesis can
    replay a saved sequence even when its outcome changed."""
    return candidates[data.draw(st.integers(0, 1000)) % len(candidates)]


class MoneyMachine(RuleBasedStateMachine):
    """The model: credits per account, and the task-milliseconds each job should be charged for."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="money-"))
        self.db = open_database(f"sqlite:///{self.tmp / 'm.db'}")
        self.credited: dict[str, int] = {}
        self.accounts: list = []
        self.used_ms: dict[str, int] = {}
        self.applied: list[TaskResult] = []

    def teardown(self) -> None:
        self.db.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @initialize(credits=st.lists(st.integers(0, 3 * DOLLAR), min_size=2, max_size=2))
    def open_accounts(self, credits: list[int]) -> None:
        for i, credit in enumerate(credits):
            account = new_account(self.db, credit, f"acc{i}")
            self.accounts.append(account)
            self.credited[account.id] = credit

    # -- events ------------------------------------------------------------------------------------------

    @rule(who=st.integers(0, 1), amount=st.integers(1, DOLLAR))
    def credit(self, who: int, amount: int) -> None:
        from controller.billing import accounts

        account = self.accounts[who]
        with self.db.atomic():
            accounts.credit(account.id, amount, "top-up")
        self.credited[account.id] += amount

    @rule(
        who=st.integers(0, 1),
        tasks=st.integers(1, 3),
        timeout_s=st.sampled_from([1, 60, 3600, 36_000]),
        max_retries=st.integers(0, 2),
    )
    def submit(self, who: int, tasks: int, timeout_s: int, max_retries: int) -> None:
        account = self.accounts[who]
        jobs_before = Job.select().count()
        try:
            with self.db.atomic():
                job = submit(account, job_body(tasks, timeout_s, max_retries))
        except Shortfall as short:
            assert short.available_micro < short.required_micro
            assert Job.select().count() == jobs_before  # nothing created
            return
        self.used_ms[job.id] = 0

    @precondition(lambda self: self._queued())
    @rule(data=st.data())
    def claim_a_task(self, data: st.DataObject) -> None:
        task = pick(data, self._queued())
        with self.db.atomic():
            assert claim(task.id, task.attempt).run

    @precondition(lambda self: self._running())
    @rule(
        data=st.data(),
        status=st.sampled_from(["completed", "failed", "cancelled"]),
        counts=st.booleans(),
        duration_ms=st.integers(0, 40_000_000),
        crash_first=st.booleans(),
    )
    def finish_a_task(
        self, data: st.DataObject, status: str, counts: bool, duration_ms: int, crash_first: bool
    ) -> None:
        task = pick(data, self._running())
        delivered = result(task, status, duration_ms, counts=counts and status != "cancelled")
        if crash_first:  # the controller dies before committing: nothing of it may stay
            before = self._snapshot()
            try:
                with self.db.atomic():
                    outcomes.apply_result(delivered)
                    raise Crash
            except Crash:
                pass
            assert self._snapshot() == before
        with self.db.atomic():
            applied = outcomes.apply_result(delivered)
        assert applied is not None
        self.applied.append(delivered)
        if delivered.counts_as_attempt:
            timeout_s = Job.get_by_id(task.job_id).spec["timeout_s"]
            self.used_ms[task.job_id] += ledger.attempt_ms(delivered.started_at, delivered.finished_at, timeout_s)

    @precondition(lambda self: self.applied)
    @rule(data=st.data())
    def deliver_a_result_again(self, data: st.DataObject) -> None:
        before = self._snapshot()
        with self.db.atomic():
            assert outcomes.apply_result(pick(data, self.applied)) is None
        assert self._snapshot() == before

    @precondition(lambda self: self._live_jobs())
    @rule(data=st.data())
    def cancel_a_job(self, data: st.DataObject) -> None:
        job = pick(data, self._live_jobs())
        claimed = [t.claimed_at for t in Task.select().where(Task.job == job.id, Task.status == "running")]
        with self.db.atomic():
            cancelled, changed = outcomes.cancel_job(job.id)
        assert changed
        timeout_s = job.spec["timeout_s"]
        self.used_ms[job.id] += sum(ledger.attempt_ms(c, cancelled.finished_at, timeout_s) for c in claimed)

    @precondition(lambda self: self._live_jobs())
    @rule(data=st.data())
    def end_a_job_unsettled_then_restart(self, data: st.DataObject) -> None:
        # A path that ends a job without settling (an older controller, a crash between two writes);
        # the startup sweep then settles it, once.
        job = pick(data, self._live_jobs())
        with self.db.atomic():
            Task.update(status="cancelled").where(Task.job == job.id, Task.status.in_(("queued", "running"))).execute()
            Job.update(status="failed", finished_at=3e6).where(Job.id == job.id).execute()
        with self.db.atomic():
            assert holds.sweep() == 1
        with self.db.atomic():
            assert holds.sweep() == 0

    # -- what must always hold ----------------------------------------------------------------------------

    @invariant()
    def money_invariants(self) -> None:
        if self.accounts:
            check_invariants(self.credited)

    @invariant()
    def holds_meter_exactly_the_task_time_used(self) -> None:
        for hold in Hold.select():
            assert hold.used_ms == self.used_ms[hold.job_id]
            if hold.status == "settled":
                expected = ledger.settle(hold.amount_micro, hold.used_ms, hold.rate_micro_usd_per_hour).charged
                assert hold.charged_micro == expected

    # -- helpers ------------------------------------------------------------------------------------------

    def _live_jobs(self) -> list[Job]:
        return list(Job.select().where(Job.status.in_(UNFINISHED_JOB)).order_by(Job.created_at))

    def _queued(self) -> list[Task]:
        queued = Task.select().join(Job).where(Task.status == "queued", Job.status.in_(UNFINISHED_JOB))
        # ordered by creation, not by (random) id, so that hypothesis can replay a sequence
        return list(queued.order_by(Job.created_at, Task.task_index))

    def _running(self) -> list[Task]:
        # ordered by creation, not by (random) id, so that hypothesis can replay a sequence
        return list(Task.select().join(Job).where(Task.status == "running").order_by(Job.created_at, Task.task_index))

    def _snapshot(self) -> tuple:
        return (
            [(h.id, h.status, h.used_ms, h.charged_micro) for h in Hold.select().order_by(Hold.id)],
            [(j.id, j.status) for j in Job.select().order_by(Job.id)],
            [(t.id, t.status, t.attempt) for t in Task.select().order_by(Task.id)],
        )


MoneyMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_money_invariants_hold_through_any_sequence_of_job_events = MoneyMachine.TestCase
