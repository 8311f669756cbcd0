"""Balances and ledger entries of one account. Writers run inside a write transaction (`Store.write`).

The ledger balance is the sum of the account's ledger entries; the held amount is the sum of its active
holds; available = ledger − held. Nothing is cached, so these identities hold by construction, and a
writer that may lower the available amount locks the account row first (`lock`), so two transactions,
even in two controllers on one PostgreSQL, never both spend the same dollars.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import peewee as pw

from controller.accounts.models import Account
from controller.billing import ledger
from controller.billing.errors import InsufficientFunds, Shortfall
from controller.billing.models import Hold, LedgerEntry


@dataclass(frozen=True)
class Balance:
    """An account's money, in micro-dollars."""

    ledger_micro: int
    held_micro: int

    @property
    def available_micro(self) -> int:
        return self.ledger_micro - self.held_micro

    def to_json(self) -> dict[str, float]:
        return {
            "ledger_balance_usd": ledger.usd(self.ledger_micro),
            "held_usd": ledger.usd(self.held_micro),
            "available_usd": ledger.usd(self.available_micro),
        }


def lock(account_id: str) -> None:
    """Lock the account row until the transaction ends: SELECT … FOR UPDATE where the database has it.

    SQLite has no row locks: a no-op UPDATE takes its database write lock instead, so a concurrent writer
    (another process on the same file) waits rather than reading a balance about to change.
    """
    db = Account._meta.database
    if db.for_update:
        Account.select(Account.id).where(Account.id == account_id).for_update().execute()
    else:
        Account.update(role=Account.role).where(Account.id == account_id).execute()


def balance(account_id: str) -> Balance:
    """The account's ledger balance and active holds."""
    ledger_sum = LedgerEntry.select(pw.fn.COALESCE(pw.fn.SUM(LedgerEntry.amount_micro), 0)).where(
        LedgerEntry.account == account_id
    )
    held_sum = Hold.select(pw.fn.COALESCE(pw.fn.SUM(Hold.amount_micro), 0)).where(
        Hold.account == account_id, Hold.status == "active"
    )
    return Balance(int(ledger_sum.scalar()), int(held_sum.scalar()))


def reserve(account_id: str, amount_micro: int) -> Balance:
    """Lock the account and check that `amount_micro` is available.

    Raises:
      Shortfall: it is not; roll the transaction back and answer 402 with a quote.
    """
    lock(account_id)
    current = balance(account_id)
    if current.available_micro < amount_micro:
        raise Shortfall(account_id, amount_micro, current.available_micro)
    return current


def add_entry(
    account_id: str,
    kind: str,
    amount_micro: int,
    *,
    reason: str = "",
    job_id: str | None = None,
    quote_id: str | None = None,
    ref: str | None = None,
) -> LedgerEntry:
    """Append one ledger entry (positive credits, negative debits)."""
    return LedgerEntry.create(
        account=account_id,
        kind=kind,
        amount_micro=amount_micro,
        reason=reason,
        job=job_id,
        quote_id=quote_id,
        ref=ref,
        created_at=time.time(),
    )


def credit(
    account_id: str,
    amount_micro: int,
    reason: str,
    *,
    kind: str = "credit",
    ref: str | None = None,
    quote_id: str | None = None,
) -> bool:
    """Credit an account; with `ref`, only the first credit of that ref happens. Returns whether it was credited."""
    if amount_micro <= 0:
        raise ValueError("a credit must be positive")
    if ref is not None and LedgerEntry.select().where(LedgerEntry.ref == ref).exists():
        return False
    add_entry(account_id, kind, amount_micro, reason=reason, ref=ref, quote_id=quote_id)
    return True


def debit(account_id: str, amount_micro: int, reason: str) -> LedgerEntry:
    """An admin debit; it may not take the available balance below zero.

    Raises:
      InsufficientFunds: the debit is larger than the available balance.
    """
    if amount_micro <= 0:
        raise ValueError("a debit must be positive")
    lock(account_id)
    current = balance(account_id)
    if current.available_micro < amount_micro:
        raise InsufficientFunds(
            f"the account has {ledger.usd(current.available_micro)} USD available, less than the debit",
            details={"available_usd": ledger.usd(current.available_micro)},
        )
    return add_entry(account_id, "debit", -amount_micro, reason=reason)
