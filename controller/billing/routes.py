"""Money routes: presets and rates, balance, holds, ledger, quotes, and x402 top-ups."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web

from controller.accounts.auth import account_of, require_writer
from controller.billing import accounts, facilitator, holds, ledger, payments, quotes, x402
from controller.billing.models import Hold, LedgerEntry, Quote
from controller.billing.service import FACILITATOR, X402
from controller.billing.views import entry_json, hold_json
from controller.core.errors import ValidationFailed, field_error
from controller.core.settings import LOCAL_DEV_FACILITATOR, LOCAL_DEV_WARNING
from controller.core.web import SETTINGS, STORE, int_query, json_response, not_found, read_json
from controller.jobs.presets import PRESETS

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()


def setup(app: web.Application) -> None:
    """Add the money routes, the x402 configuration and facilitator, and the startup settlement sweep."""
    settings = app[SETTINGS]
    app[X402] = x402.config_from(
        settings.x402_pay_to, settings.x402_network, settings.x402_asset, settings.x402_facilitator
    )
    app[FACILITATOR] = facilitator.build(settings.x402_facilitator)
    if settings.x402_facilitator == LOCAL_DEV_FACILITATOR:
        logger.warning(LOCAL_DEV_WARNING)
    elif not settings.x402_facilitator:
        logger.info("x402: no facilitator configured; payments are refused with 503 payments_unavailable")
    app.add_routes(routes)
    app.cleanup_ctx.append(_settle_leftovers)


async def _settle_leftovers(app: web.Application) -> AsyncIterator[None]:
    """Settle the holds of jobs that ended without settling (a crash between two writes of an older version)."""
    await app[STORE].write(holds.sweep)
    yield


@routes.get("/api/v1/presets")
async def list_presets(request: web.Request) -> web.Response:
    from recipes import registry  # loads the recipe modules: only when rates are asked for

    presets = [{**p.to_json(), "usd_per_hour": ledger.usd(p.micro_usd_per_hour)} for p in PRESETS.values()]
    recipe_rates = [
        {"name": r.name, "usd_per_hour": ledger.usd(r.micro_usd_per_hour)}
        for r in sorted(registry().values(), key=lambda r: r.name)
    ]
    return json_response({"presets": presets, "recipes": recipe_rates, "currency": "USD"})


@routes.get("/api/v1/account/balance")
async def get_balance(request: web.Request) -> web.Response:
    account = account_of(request)
    balance = accounts.balance(account.id)
    return json_response({"account_id": account.id, **balance.to_json(), "currency": "USD"})


@routes.get("/api/v1/account/holds")
async def list_holds(request: web.Request) -> web.Response:
    rows = Hold.select().where(Hold.account == account_of(request).id, Hold.status == "active")
    return json_response({"holds": [hold_json(h) for h in rows.order_by(Hold.created_at.desc())]})


@routes.get("/api/v1/account/ledger")
async def list_ledger(request: web.Request) -> web.Response:
    limit = int_query(request, "limit", 50, 1, 500)
    before = int_query(request, "before", 2**62, 1, 2**62)
    query = LedgerEntry.select().where(LedgerEntry.account == account_of(request).id, LedgerEntry.id < before)
    rows = list(query.order_by(LedgerEntry.id.desc()).limit(limit + 1))
    page = rows[:limit]
    return json_response(
        {"entries": [entry_json(e) for e in page], "next_before": page[-1].id if len(rows) > limit else None}
    )


@routes.get("/api/v1/account/quotes")
async def list_quotes(request: web.Request) -> web.Response:
    now = time.time()
    config = request.app[X402]
    open_quotes = quotes.open_quotes(account_of(request).id, now)
    return json_response({"quotes": [quotes.quote_json(q, config, now) for q in open_quotes]})


@routes.post("/api/v1/account/quotes/topup")
async def create_topup(request: web.Request) -> web.Response:
    account = account_of(request)
    require_writer(account)
    payments.check_available(request.app[FACILITATOR])  # a top-up quote nobody can pay is no use
    body = await read_json(request, 64 * 1024)
    if not isinstance(body, dict) or set(body) != {"amount_usd"}:
        raise ValidationFailed([field_error("amount_usd", 'send exactly {"amount_usd": <dollars>}')])
    try:
        amount = ledger.parse_usd(body["amount_usd"])
    except ValueError as exc:
        raise ValidationFailed([field_error("amount_usd", str(exc))]) from None
    if not quotes.MIN_TOPUP_MICRO <= amount <= quotes.MAX_TOPUP_MICRO:
        low, high = ledger.usd(quotes.MIN_TOPUP_MICRO), ledger.usd(quotes.MAX_TOPUP_MICRO)
        raise ValidationFailed([field_error("amount_usd", f"must be from {low} to {high} USD")])
    quote = await request.app[STORE].write(quotes.create, account.id, "topup", amount, "top-up")
    return _payment_required(request, quote)


@routes.post("/api/v1/account/quotes/{quote_id}/pay/x402")
async def pay_quote(request: web.Request) -> web.Response:
    account = account_of(request)
    require_writer(account)
    quote_id = request.match_info["quote_id"]
    quote = Quote.get_or_none(Quote.id == quote_id, Quote.account == account.id)
    if quote is None:
        raise not_found("quote", quote_id)
    payments.check_available(request.app[FACILITATOR])
    header = request.headers.get("PAYMENT-SIGNATURE")
    if not header:
        payments.check_payable(quote, time.time())
        return _payment_required(request, quote)
    config = request.app[X402]
    paid = await payments.pay(request.app[STORE], request.app[FACILITATOR], config, quote, header)
    settlement = x402.settlement_header(
        True, paid.settlement.transaction, paid.settlement.network, paid.settlement.payer
    )
    body = payments.response_body(paid, config, accounts.balance(account.id))
    return json_response(body, headers={"PAYMENT-RESPONSE": settlement})


def _payment_required(request: web.Request, quote: Quote) -> web.Response:
    """402 with the quote and its x402 requirements, in the body and in PAYMENT-REQUIRED."""
    config = request.app[X402]
    required = quotes.payment_required(quote, config, request.app[SETTINGS].base_url)
    body = {"quote": quotes.quote_json(quote, config, time.time()), **required}
    return json_response(body, status=402, headers={"PAYMENT-REQUIRED": x402.encode_header(required)})
