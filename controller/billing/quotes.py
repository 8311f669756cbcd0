"""Quotes: amounts an account is asked to fund, by top-up or after a refused request, payable with x402."""

from __future__ import annotations

import time
from typing import Any

from controller.billing import ledger, x402
from controller.billing.errors import AmountTooLarge, InsufficientBalance, Shortfall
from controller.billing.models import Quote
from controller.core.db import Store
from controller.core.ids import new_id

#: A quote can be paid for this long.
QUOTE_TTL_S = 3600
MIN_TOPUP_MICRO = 10_000
MAX_TOPUP_MICRO = 10_000 * ledger.MICRO_PER_USD


def create(account_id: str, kind: str, amount_micro: int, purpose: str, details: dict[str, Any] | None = None) -> Quote:
    """A new open quote (call inside a write transaction).

    Raises:
      ValueError: the amount is not in 1..`ledger.MAX_AMOUNT_MICRO`.
    """
    ledger.check_amount(amount_micro)
    now = time.time()
    return Quote.create(
        id=new_id("qt"),
        account=account_id,
        kind=kind,
        amount_micro=amount_micro,
        purpose=purpose,
        details=details or {},
        created_at=now,
        expires_at=now + QUOTE_TTL_S,
    )


def state(quote: Quote, now: float) -> str:
    """open | settling | paid | expired."""
    return "expired" if quote.status == "open" and quote.expires_at <= now else quote.status


def open_quotes(account_id: str, now: float) -> list[Quote]:
    """The account's quotes that can still be paid, newest first."""
    rows = Quote.select().where(Quote.account == account_id, Quote.status == "open", Quote.expires_at > now)
    return list(rows.order_by(Quote.created_at.desc()))


def pay_path(quote_id: str) -> str:
    return f"/api/v1/account/quotes/{quote_id}/pay/x402"


def quote_json(quote: Quote, config: x402.X402Config, now: float) -> dict[str, Any]:
    """A quote as the API shows it; an open quote carries the x402 requirements that pay it."""
    from controller.core.web import iso

    status = state(quote, now)
    body: dict[str, Any] = {
        "id": quote.id,
        "kind": quote.kind,
        "status": status,
        "amount_usd": ledger.usd(quote.amount_micro),
        "currency": "USD",
        "purpose": quote.purpose,
        "created_at": iso(quote.created_at),
        "expires_at": iso(quote.expires_at),
        "paid_at": iso(quote.paid_at),
        "pay_url": pay_path(quote.id),
    }
    for key in ("required_micro", "available_micro"):
        if key in quote.details:
            body[key.replace("_micro", "_usd")] = ledger.usd(quote.details[key])
    if status == "open":
        body["accepts"] = [x402.requirements(config, quote.amount_micro)]
    return body


def payment_required(quote: Quote, config: x402.X402Config, base_url: str) -> dict[str, Any]:
    """The x402 PAYMENT-REQUIRED object of an open quote."""
    description = f"Computalot {quote.kind} quote {quote.id}: {quote.purpose}"
    return x402.payment_required(config, quote.amount_micro, base_url + pay_path(quote.id), description)


async def shortfall_error(
    store: Store, config: x402.X402Config, base_url: str, short: Shortfall, purpose: str
) -> InsufficientBalance:
    """Store a shortfall quote for a refused request (after its transaction rolled back) and build the 402.

    Raises:
      AmountTooLarge: the shortfall is more than one quote may ask for; no quote is stored.
    """
    amount = ledger.shortfall_micro(short.required_micro, short.available_micro)
    if amount > ledger.MAX_AMOUNT_MICRO:
        raise AmountTooLarge(
            f"this needs {ledger.usd(short.required_micro)} USD available; the account has "
            f"{ledger.usd(short.available_micro)} USD, and one payment brings at most "
            f"{ledger.usd(ledger.MAX_AMOUNT_MICRO)} USD",
            details={
                "required_usd": ledger.usd(short.required_micro),
                "available_usd": ledger.usd(short.available_micro),
            },
        )
    details = {"required_micro": short.required_micro, "available_micro": short.available_micro}
    quote = await store.write(create, short.account_id, "shortfall", amount, purpose, details)
    body = quote_json(quote, config, time.time())
    return InsufficientBalance(
        f"this needs {ledger.usd(short.required_micro)} USD available; the account has "
        f"{ledger.usd(short.available_micro)} USD",
        body,
        headers={"PAYMENT-REQUIRED": x402.encode_header(payment_required(quote, config, base_url))},
    )
