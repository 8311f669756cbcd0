"""Holds: placed with the job, fed with the task-time of each attempt, settled exactly once when the job ends.

Every function runs inside the write transaction that changes the job, so a job and its money never
disagree: a crash either keeps both changes or neither.

What is charged: every attempt in which the user's command ran, for the time the agent reports it ran
(clamped to `timeout_s`); attempts the platform lost or could not start (`counts_as_attempt` false) are
free; an attempt running when its job is cancelled is charged up to the cancel. The charge is the total
task-milliseconds × the job's rate, rounded up to a micro-dollar and never more than the hold.
"""

from __future__ import annotations

import logging
import time

import peewee as pw

from broker.messages import TaskResult
from broker.statuses import TERMINAL_JOB, TaskStatus
from controller.billing import accounts, ledger
from controller.billing.models import Hold
from controller.billing.pricing import Price
from controller.core.ids import new_id
from controller.jobs.models import Job, Task
from controller.jobs.spec import spec_of

logger = logging.getLogger(__name__)


def place(job: Job, price: Price) -> Hold:
    """Record the hold of a job just created (call `accounts.reserve` first, in the same transaction)."""
    return Hold.create(
        id=new_id("hld"),
        account=job.account_id,
        job=job.id,
        amount_micro=price.hold_micro,
        rate_micro_usd_per_hour=price.rate_micro_per_hour,
        created_at=time.time(),
    )


def add_usage(job_id: str, used_ms: int) -> None:
    """Add task-milliseconds to the job's active hold (no-op for jobs without one)."""
    if used_ms > 0:
        Hold.update(used_ms=Hold.used_ms + used_ms).where(Hold.job == job_id, Hold.status == "active").execute()


def record_result(job: Job, task: Task, result: TaskResult, now: float) -> None:
    """Count the attempt a result reports, once: call it only for a result that is being applied."""
    if not result.counts_as_attempt:
        return
    started = result.started_at or task.claimed_at or now
    finished = result.finished_at or now
    add_usage(job.id, ledger.attempt_ms(started, finished, _timeout_s(job)))


def charge_running(job: Job, now: float) -> None:
    """Count the attempts still running when the job is cancelled, up to `now` (before they are marked cancelled)."""
    timeout_s = _timeout_s(job)
    claimed = Task.select(Task.claimed_at).where(Task.job == job.id, Task.status == TaskStatus.RUNNING)
    add_usage(job.id, sum(ledger.attempt_ms(t.claimed_at or now, now, timeout_s) for t in claimed))


def settle(job: Job, now: float) -> Hold | None:
    """Settle the job's hold: debit the task-time used, release the rest. Only the first call does anything."""
    if not Hold.select().where(Hold.job == job.id, Hold.status == "active").exists():
        return None
    # Lock like `accounts.reserve` does: a reserve reading the ledger sum and then the hold sum (two statements
    # under READ COMMITTED) must not see this charge without this release, or the reverse.
    accounts.lock(job.account_id)
    hold = Hold.get_or_none(Hold.job == job.id, Hold.status == "active")
    if hold is None:
        return None
    outcome = ledger.settle(hold.amount_micro, hold.used_ms, hold.rate_micro_usd_per_hour)
    changed = (
        Hold.update(status="settled", charged_micro=outcome.charged, settled_at=now)
        .where(Hold.id == hold.id, Hold.status == "active")
        .execute()
    )
    if not changed:
        return None
    if outcome.charged:
        accounts.add_entry(
            hold.account_id,
            "charge",
            -outcome.charged,
            reason=f"{hold.used_ms / 1000:.3f} task-seconds of job {job.id}",
            job_id=job.id,
            ref=f"charge:{job.id}",
        )
    logger.info("job=%s settled: charged=%d released=%d micro-USD", job.id, outcome.charged, outcome.released)
    return Hold.get_by_id(hold.id)


def sweep(now: float | None = None) -> int:
    """Settle every ended job whose hold is still active (after a crash, or a terminal path that skipped it)."""
    now = now or time.time()
    stale = list(
        Job.select().join(Hold, on=(Hold.job == Job.id)).where(Hold.status == "active", Job.status.in_(TERMINAL_JOB))
    )
    settled = sum(settle(job, now) is not None for job in stale)
    if settled:
        logger.warning("settled %d holds of ended jobs on startup", settled)
    return settled


def cost_micro(job_id: str) -> int | None:
    """What the job costs so far: its charge once settled, else the price of the task-time used; None if unbilled."""
    hold = Hold.get_or_none(Hold.job == job_id)
    if hold is None:
        return None
    if hold.status == "settled":
        return hold.charged_micro
    return ledger.settle(hold.amount_micro, hold.used_ms, hold.rate_micro_usd_per_hour).charged


def totals_micro() -> tuple[int, int]:
    """Micro-dollars held by active holds, and charged by settled ones, over every account."""
    held = Hold.select(pw.fn.SUM(Hold.amount_micro)).where(Hold.status == "active").scalar()
    settled = Hold.select(pw.fn.SUM(Hold.charged_micro)).where(Hold.status == "settled").scalar()
    # int(): PostgreSQL sums a BIGINT into a NUMERIC, which arrives as a Decimal.
    return int(held or 0), int(settled or 0)


def _timeout_s(job: Job) -> int:
    return spec_of(job).timeout_s
