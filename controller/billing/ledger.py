"""Money arithmetic (pure): integer micro-dollars in, integer micro-dollars out, rounding always up.

One micro-dollar is also one atomic unit of USDC (6 decimals), so quotes convert to x402 amounts unchanged.
Floats appear only at the edges: task times (UNIX seconds) become whole milliseconds here, and `usd`
renders an amount for JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

#: micro-dollars in one dollar (and USDC atomic units in one USDC)
MICRO_PER_USD = 1_000_000
#: milliseconds in one hour: rates are per task-hour, usage is counted in task-milliseconds
MS_PER_HOUR = 3_600_000
#: shortfall quotes are rounded up to whole cents
CENT_MICRO = 10_000
#: the most one amount may be: a credit, a debit, a quote, an x402 authorization ($1,000,000)
MAX_AMOUNT_MICRO = 10**12
#: the most an account may hold ($1,000,000,000). With every entry at most MAX_AMOUNT_MICRO and every balance at
#: most this, a ledger sum (and each partial sum, in entry order) stays over 9,000 times below 2**63 - 1, the
#: largest integer of SQLite and of a PostgreSQL BIGINT; `usd` shows it exactly.
MAX_BALANCE_MICRO = 10**15


def ceil_div(numerator: int, denominator: int) -> int:
    """`numerator / denominator` rounded up (both non-negative integers)."""
    return -(-numerator // denominator)


def hold_micro(tasks: int, timeout_s: int, rate_micro_per_hour: int, max_retries: int) -> int:
    """The most a job can cost: tasks × timeout_s × rate × (1 + max_retries), rounded up to a micro-dollar."""
    return ceil_div(tasks * timeout_s * rate_micro_per_hour * (1 + max_retries), 3600)


def charge_micro(used_ms: int, rate_micro_per_hour: int) -> int:
    """The price of `used_ms` task-milliseconds at a rate per task-hour, rounded up to a micro-dollar."""
    return ceil_div(used_ms * rate_micro_per_hour, MS_PER_HOUR)


@dataclass(frozen=True)
class Settlement:
    """How a hold ends: `charged` is debited, `released` goes back to the available balance."""

    charged: int
    released: int


def settle(held: int, used_ms: int, rate_micro_per_hour: int) -> Settlement:
    """Split a hold into the charge for the task-time used (never more than the hold) and the rest."""
    charged = min(held, charge_micro(used_ms, rate_micro_per_hour))
    return Settlement(charged, held - charged)


def attempt_ms(started_at: float, finished_at: float, timeout_s: int) -> int:
    """Whole milliseconds one attempt ran, clamped to 0..timeout_s (the agent kills an attempt at its timeout)."""
    elapsed = round((finished_at - started_at) * 1000)
    return max(0, min(elapsed, timeout_s * 1000))


def shortfall_micro(required: int, available: int) -> int:
    """What an account must add to afford `required`: the gap, rounded up to a whole cent (0 if none)."""
    gap = required - available
    return 0 if gap <= 0 else ceil_div(gap, CENT_MICRO) * CENT_MICRO


def check_amount(amount_micro: int) -> None:
    """Refuse an amount that is not positive or above `MAX_AMOUNT_MICRO` (before any arithmetic on it).

    Raises:
      ValueError: it is; the message says which.
    """
    if not 0 < amount_micro <= MAX_AMOUNT_MICRO:
        raise ValueError(f"an amount must be from 1 to {MAX_AMOUNT_MICRO} micro-dollars, got {amount_micro}")


def usd(micro: int) -> float:
    """An amount as the API shows it (`*_usd`): a decimal number of dollars, exact to the micro-dollar below $1e9."""
    return float(Decimal(micro) / MICRO_PER_USD)


def parse_usd(value: Any, maximum_micro: int = MAX_AMOUNT_MICRO) -> int:
    """Micro-dollars of a positive dollar amount, at most `maximum_micro`, given as a JSON number or a decimal string.

    Raises:
      ValueError: not a number, not positive, above the maximum, or finer than a micro-dollar; the message says which.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("must be a number of dollars, e.g. 10 or 2.50")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a number of dollars, e.g. 10 or 2.50") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError("must be a positive number of dollars")
    # compared before any arithmetic: a huge exponent would overflow the multiplication below
    maximum = Decimal(maximum_micro) / MICRO_PER_USD
    if amount > maximum:
        raise ValueError(f"must be at most {maximum:,f} USD")
    micro = amount * MICRO_PER_USD
    if micro != micro.to_integral_value():
        raise ValueError("must not be finer than a micro-dollar (6 decimal places)")
    return int(micro)
