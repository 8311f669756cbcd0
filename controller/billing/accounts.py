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
from controller.billing.errors import BalanceLimitExceeded, InsufficientFunds, Shortfall
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


def check_room(account_id: str, amount_micro: int) -> Balance:
    """Lock the account and check that crediting `amount_micro` keeps it within `ledger.MAX_BALANCE_MICRO`.

    Raises:
      ValueError: the amount is not in 1..`ledger.MAX_AMOUNT_MICRO` (checked before any arithmetic).
      BalanceLimitExceeded: the balance would go over the limit.
    """
    ledger.check_amount(amount_micro)
    lock(account_id)
    current = balance(account_id)
    room = max(ledger.MAX_BALANCE_MICRO - current.ledger_micro, 0)
    if amount_micro > room:
        raise BalanceLimitExceeded(
            f"the account would hold over {ledger.usd(ledger.MAX_BALANCE_MICRO)} USD, the most an account may hold",
            details={"room_usd": ledger.usd(room), "max_balance_usd": ledger.usd(ledger.MAX_BALANCE_MICRO)},
        )
    return current


def credit(account_id: str, amount_micro: int, reason: str, *, kind: str = "credit") -> LedgerEntry:
    """Credit an account, within the limits.

    Raises:
      ValueError: the amount is not in 1..`ledger.MAX_AMOUNT_MICRO` (checked before any arithmetic).
      BalanceLimitExceeded: the balance would go over `ledger.MAX_BALANCE_MICRO`.
    """
    check_room(account_id, amount_micro)
    return add_entry(account_id, kind, amount_micro, reason=reason)


def credit_once(account_id: str, amount_micro: int, reason: str, *, ref: str) -> bool:
    """`credit`, unless an entry with this `ref` exists; returns whether it credited.

    Raises:
      ValueError, BalanceLimitExceeded: as `credit`.
    """
    if LedgerEntry.select().where(LedgerEntry.ref == ref).exists():
        return False
    check_room(account_id, amount_micro)
    add_entry(account_id, "credit", amount_micro, reason=reason, ref=ref)
    return True


def credit_received(account_id: str, amount_micro: int, reason: str, *, ref: str, quote_id: str) -> LedgerEntry | None:
    """Credit money already received (a settled x402 payment), once per `ref`.

    The room was checked when the payment was claimed (`check_room`), before the funds moved: refusing now would
    keep them without crediting them. Payments settling at the same time can pass the limit by their sum, at most
    a few quotes, still far below the database's integer range.

    Raises:
      ValueError: the amount is not in 1..`ledger.MAX_AMOUNT_MICRO`.
    """
    ledger.check_amount(amount_micro)
    if LedgerEntry.select().where(LedgerEntry.ref == ref).exists():
        return None
    return add_entry(account_id, "topup", amount_micro, reason=reason, ref=ref, quote_id=quote_id)


def debit(account_id: str, amount_micro: int, reason: str) -> LedgerEntry:
    """An admin debit; it may not take the available balance below zero.

    Raises:
      ValueError: the amount is not in 1..`ledger.MAX_AMOUNT_MICRO`.
      InsufficientFunds: the debit is larger than the available balance.
    """
    ledger.check_amount(amount_micro)
    lock(account_id)
    current = balance(account_id)
    if current.available_micro < amount_micro:
        raise InsufficientFunds(
            f"the account has {ledger.usd(current.available_micro)} USD available, less than the debit",
            details={"available_usd": ledger.usd(current.available_micro)},
        )
    return add_entry(account_id, "debit", -amount_micro, reason=reason)
