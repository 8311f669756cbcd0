"""Public JSON shapes of ledger entries and holds (amounts as `*_usd` decimals)."""

from __future__ import annotations

from typing import Any

from controller.billing import ledger
from controller.billing.models import Hold, LedgerEntry
from controller.core.web import iso


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    """One ledger entry: credits positive, debits negative, with the job or quote it belongs to."""
    return {
        "id": entry.id,
        "kind": entry.kind,
        "amount_usd": ledger.usd(entry.amount_micro),
        "job_id": entry.job_id,
        "quote_id": entry.quote_id,
        "reason": entry.reason,
        "created_at": iso(entry.created_at),
    }


def hold_json(hold: Hold) -> dict[str, Any]:
    """One hold: what is reserved for a job, at what rate, and what it used so far."""
    used = ledger.settle(hold.amount_micro, hold.used_ms, hold.rate_micro_usd_per_hour)
    return {
        "id": hold.id,
        "job_id": hold.job_id,
        "status": hold.status,
        "amount_usd": ledger.usd(hold.amount_micro),
        "usd_per_hour": ledger.usd(hold.rate_micro_usd_per_hour),
        "task_seconds": hold.used_ms / 1000,
        "used_usd": ledger.usd(used.charged if hold.charged_micro is None else hold.charged_micro),
        "created_at": iso(hold.created_at),
        "settled_at": iso(hold.settled_at),
    }
