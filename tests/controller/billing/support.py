"""Driving jobs and money directly through the controller's transaction functions (no HTTP, no agents)."""

from __future__ import annotations

import time
from typing import Any

import peewee as pw

from broker.messages import TaskResult
from broker.statuses import UNFINISHED_JOB
from controller.accounts.auth import create_account
from controller.accounts.models import Account
from controller.billing import accounts, holds, ledger, pricing
from controller.billing.models import Hold, LedgerEntry
from controller.jobs import outcomes
from controller.jobs import records as jobs
from controller.jobs.kinds import plan_job
from controller.jobs.models import Job, Task
from controller.jobs.spec import parse_job_spec

#: UNIX time the attempts of these tests start at (exact in binary, so durations come out whole)
T0 = 1_000_000.0


def new_account(db: pw.Database, credit_micro: int = 0, name: str = "acc") -> Account:
    with db.atomic():
        account = create_account(name)
        if credit_micro:
            accounts.credit(account.id, credit_micro, "test credit")
    return account


def job_body(tasks: int = 2, timeout_s: int = 60, max_retries: int = 0) -> dict[str, Any]:
    return {
        "project": "p",
        "payload": {"i": list(range(tasks))},
        "fan_out": {"by": "i"},
        "timeout_s": timeout_s,
        "max_retries": max_retries,
    }


def submit(account: Account, body: dict[str, Any]) -> Job:
    """What `controller.jobs.submit._create` does, inside the caller's transaction: reserve, create, hold, and
    check the dependencies of a job with `depends_on`."""
    spec = parse_job_spec(body)
    plan = plan_job(spec)
    price = pricing.price(spec, plan)
    accounts.reserve(account.id, price.hold_micro)
    job = jobs.create_job(
        account,
        spec,
        plan,
        project=None,
        revision_hash="sha256:test",
        command=["true"],
        runtime="process",
        workdir=".",
        profile="cpu-small",
        idempotency_key=None,
        depends_on=spec.depends_on,
    )
    holds.place(job, price)
    if spec.depends_on:
        outcomes.check_dependencies(job, time.time())
    return job


def tasks_of(job: Job) -> list[Task]:
    """A job's tasks in index order."""
    return list(Task.select().where(Task.job == job.id).order_by(Task.task_index))


def claim(task_id: str, attempt: int = 1) -> outcomes.Claim:
    return outcomes.claim_task(task_id, attempt, "agent-1", lambda agent, task: False)


def result(
    task: Task, status: str = "completed", duration_ms: int = 1000, counts: bool = True, error_code: str = ""
) -> TaskResult:
    return TaskResult(
        job_id=task.job_id,
        task_id=task.id,
        attempt=task.attempt,
        status=status,
        result={"ok": True} if status == "completed" else None,
        error="" if status == "completed" else "it failed",
        error_code=error_code or ("" if status == "completed" else "exit_code"),
        started_at=T0,
        finished_at=T0 + duration_ms / 1000,
        counts_as_attempt=counts,
    )


def run_task(
    db: pw.Database, task_id: str, status: str = "completed", duration_ms: int = 1000
) -> outcomes.Applied | None:
    """Claim the task's current attempt and apply its result, in two transactions as the controller does."""
    with db.atomic():
        task = Task.get_by_id(task_id)
        assert claim(task_id, task.attempt).run
    with db.atomic():
        return outcomes.apply_result(result(Task.get_by_id(task_id), status, duration_ms))


def expected_charge(job: Job, used_ms: int) -> int:
    hold = Hold.get(Hold.job == job.id)
    return ledger.settle(hold.amount_micro, used_ms, hold.rate_micro_usd_per_hour).charged


def check_invariants(credited: dict[str, int]) -> None:
    """PLATFORM.md's money invariants, for every account (`credited`: account id -> credits and debits applied).

    Ledger balance = credits − settled charges (and admin debits); available = ledger − active holds; neither
    negative; no hold outlives its job, and every live job has one; each settled hold has exactly one charge
    entry (none for a zero charge) matching it.
    """
    for account_id, net_credits in credited.items():
        balance = accounts.balance(account_id)
        charged = sum(
            h.charged_micro for h in Hold.select().where(Hold.account == account_id, Hold.status == "settled")
        )
        active = sum(h.amount_micro for h in Hold.select().where(Hold.account == account_id, Hold.status == "active"))
        assert balance.ledger_micro == net_credits - charged
        assert balance.held_micro == active
        assert balance.available_micro == balance.ledger_micro - balance.held_micro
        assert balance.ledger_micro >= 0 and balance.available_micro >= 0
    for hold in Hold.select(Hold, Job).join(Job):
        job = hold.job
        assert (hold.status == "active") == (job.status in UNFINISHED_JOB), (hold.status, job.status)
        charges = list(LedgerEntry.select().where(LedgerEntry.job == job.id, LedgerEntry.kind == "charge"))
        if hold.status == "settled":
            assert 0 <= hold.charged_micro <= hold.amount_micro
            assert [c.amount_micro for c in charges] == ([-hold.charged_micro] if hold.charged_micro else [])
        else:
            assert charges == []
    live = Job.select().where(Job.status.in_(UNFINISHED_JOB))
    assert all(Hold.select().where(Hold.job == j.id).exists() for j in live)
