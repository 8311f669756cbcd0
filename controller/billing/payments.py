"""Paying a quote with x402: verify, claim the nonce, settle through the facilitator, credit once."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import peewee as pw

from controller.billing import accounts, ledger, quotes, x402
from controller.billing.errors import (
    PaymentReplayed,
    PaymentSettlementFailed,
    PaymentsUnavailable,
    QuoteAlreadyPaid,
    QuoteExpired,
)
from controller.billing.facilitator import Facilitator, Settlement
from controller.billing.models import Payment, Quote
from controller.core.db import Store
from controller.core.errors import Conflict
from controller.core.ids import new_id

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Paid:
    """A settled payment: the quote, what was credited and the facilitator's answer."""

    quote: Quote
    credited_micro: int
    settlement: Settlement


def check_payable(quote: Quote, now: float) -> None:
    """Raises QuoteAlreadyPaid, Conflict (a payment is being settled) or QuoteExpired."""
    status = quotes.state(quote, now)
    if status == "paid":
        raise QuoteAlreadyPaid(f"quote {quote.id} is already paid", details={"quote_id": quote.id})
    if status == "settling":
        raise Conflict(
            f"a payment for quote {quote.id} is being settled",
            recommended_action="Wait a few seconds and read GET /api/v1/account/quotes.",
        )
    if status == "expired":
        raise QuoteExpired(f"quote {quote.id} expired", details={"quote_id": quote.id})


def check_available(facilitator: Facilitator | None) -> Facilitator:
    """The facilitator that settles payments.

    Raises:
      PaymentsUnavailable: none is configured; crediting a verified authorization without one would credit money
        that never moved (anyone can sign an authorization from an empty wallet).
    """
    if facilitator is None:
        raise PaymentsUnavailable("this controller has no x402 facilitator configured, so it accepts no payments")
    return facilitator


async def pay(
    store: Store, facilitator: Facilitator | None, config: x402.X402Config, quote: Quote, header: str
) -> Paid:
    """Pay `quote` with the PAYMENT-SIGNATURE `header`; the account is credited the quote's amount, once.

    Raises:
      PaymentsUnavailable, PaymentRefused (and its subclasses), BalanceLimitExceeded, QuoteAlreadyPaid,
        QuoteExpired, Conflict: nothing was credited.
    """
    settler = check_available(facilitator)
    now = time.time()
    check_payable(quote, now)
    payment = x402.decode_header(header)
    auth = x402.verify(payment, config, quote.amount_micro, now)
    try:
        payment_id = await store.write(_claim, quote.id, auth, config)
    except pw.IntegrityError:  # a concurrent request presented the same nonce first
        raise PaymentReplayed("this authorization's nonce was already used") from None
    requirements = x402.requirements(config, quote.amount_micro)
    settlement = await settler.settle(payment, requirements, auth.payer)
    if not settlement.success:
        await store.write(_fail, payment_id, settlement.error)
        raise PaymentSettlementFailed(f"the facilitator refused the payment: {settlement.error}")
    paid_quote, credited = await store.write(_complete, payment_id, settlement)
    logger.info("quote=%s paid by %s: credited %d micro-USD", quote.id, auth.payer, credited)
    return Paid(paid_quote, credited, settlement)


def _claim(quote_id: str, auth: x402.Authorization, config: x402.X402Config) -> str:
    """Record the authorization (its nonce is unique) and move the quote to settling, or refuse.

    The balance limit is checked here, before the facilitator moves any funds (`accounts.credit_received`).
    """
    if Payment.select().where(Payment.nonce == auth.nonce).exists():
        raise PaymentReplayed("this authorization's nonce was already used")
    unclaimed = Quote.get_by_id(quote_id)
    accounts.check_room(unclaimed.account_id, unclaimed.amount_micro)
    moved = Quote.update(status="settling").where(Quote.id == quote_id, Quote.status == "open").execute()
    if not moved:
        check_payable(Quote.get_by_id(quote_id), time.time())
        raise Conflict(f"quote {quote_id} cannot be paid now")
    quote = Quote.get_by_id(quote_id)
    return Payment.create(
        id=new_id("pay"),
        quote=quote_id,
        account=quote.account_id,
        network=config.network,
        asset=config.asset,
        payer=auth.payer,
        pay_to=auth.pay_to,
        value_micro=auth.value,
        nonce=auth.nonce,
        valid_before=auth.valid_before,
        signature=auth.signature,
        created_at=time.time(),
    ).id


def _fail(payment_id: str, error: str) -> None:
    """The facilitator refused: the payment is failed (its nonce stays used), the quote can be paid again."""
    payment = Payment.get_by_id(payment_id)
    Payment.update(status="failed", error=error).where(Payment.id == payment_id).execute()
    Quote.update(status="open").where(Quote.id == payment.quote_id, Quote.status == "settling").execute()


def _complete(payment_id: str, settlement: Settlement) -> tuple[Quote, int]:
    """Credit the quote's amount once (the ledger ref `x402:<quote>` is unique) and mark the quote paid.

    `verify` accepted only an authorization of exactly that amount; the quote, not the authorization, says what
    is credited.
    """
    now = time.time()
    payment = Payment.get_by_id(payment_id)
    Payment.update(status="settled", transaction=settlement.transaction, settled_at=now).where(
        Payment.id == payment_id
    ).execute()
    Quote.update(status="paid", paid_at=now).where(Quote.id == payment.quote_id).execute()
    quote = Quote.get_by_id(payment.quote_id)
    credited = accounts.credit_received(
        payment.account_id,
        quote.amount_micro,
        f"x402 payment from {payment.payer} ({settlement.transaction})",
        ref=f"x402:{payment.quote_id}",
        quote_id=payment.quote_id,
    )
    return quote, quote.amount_micro if credited else 0


def response_body(paid: Paid, config: x402.X402Config, balance: accounts.Balance) -> dict[str, Any]:
    """The answer to a successful payment."""
    return {
        "quote": quotes.quote_json(paid.quote, config, time.time()),
        "credited_usd": ledger.usd(paid.credited_micro),
        "transaction": paid.settlement.transaction,
        "network": paid.settlement.network,
        "payer": paid.settlement.payer,
        "balance": balance.to_json(),
    }
