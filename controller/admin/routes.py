"""`/api/v1/admin/*`, for admin tokens: accounts, agents, keys, wallets, money, feedback; `computalot-admin` is
its client.

Each handler checks the token and the request, then calls one `controller.admin.service` function (writes inside
`Store.write`, so the controller stays the only writer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from controller.accounts.auth import account_of, require_admin
from controller.admin import service
from controller.admin.views import account_json, key_json, wallet_json
from controller.billing import accounts, ledger
from controller.billing.models import LedgerEntry
from controller.billing.views import entry_json
from controller.core.errors import ValidationFailed, field_error
from controller.core.web import STORE, int_query, json_response, read_fields
from controller.feedback.routes import feedback_json

routes = web.RouteTableDef()

#: largest admin request body
_MAX_BODY = 64 * 1024


def _admin(request: web.Request) -> None:
    require_admin(account_of(request))


def _string(body: dict[str, Any], key: str, *, required: bool = False, default: str = "") -> str:
    value = body.get(key, default)
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationFailed([field_error(key, "required non-empty string" if required else "must be a string")])
    return value.strip()


def _amount(body: dict[str, Any], key: str = "amount_usd") -> int:
    try:
        return ledger.parse_usd(body.get(key))
    except ValueError as exc:
        raise ValidationFailed([field_error(key, str(exc))]) from None


def _issued(issued: service.IssuedKey) -> dict[str, Any]:
    return {"key": key_json(issued.key), "api_key": issued.token}


def _entry(entry: LedgerEntry) -> web.Response:
    balance = accounts.balance(entry.account_id).to_json()
    return json_response({"entry": entry_json(entry), "balance": balance}, status=201)


@routes.get("/api/v1/admin/accounts")
async def list_accounts(request: web.Request) -> web.Response:
    _admin(request)
    return json_response({"accounts": [account_json(a) for a in service.list_accounts()]})


@routes.post("/api/v1/admin/accounts")
async def create_account(request: web.Request) -> web.Response:
    _admin(request)
    body = await read_fields(request, {"name", "role", "credit_usd"}, _MAX_BODY)
    name = _string(body, "name", required=True)
    role = service.check_role(_string(body, "role", default="member"))
    credit = _amount(body, "credit_usd") if body.get("credit_usd") not in (None, 0) else 0
    account, issued = await request.app[STORE].write(service.create_account, name, role, credit)
    return json_response({"account": account_json(account), **_issued(issued)}, status=201)


@routes.post("/api/v1/admin/agents")
async def create_agent(request: web.Request) -> web.Response:
    """An agent's account and key: the agent routes only, for the attempts that agent claims."""
    _admin(request)
    name = _string(await read_fields(request, {"name"}, _MAX_BODY), "name", required=True)
    account, issued = await request.app[STORE].write(service.create_agent, name)
    return json_response({"agent": account_json(account), "agent_id": account.id, **_issued(issued)}, status=201)


@routes.get("/api/v1/admin/accounts/{account_id}/keys")
async def list_keys(request: web.Request) -> web.Response:
    _admin(request)
    account_id = service.account(request.match_info["account_id"]).id
    return json_response({"account_id": account_id, "keys": [key_json(k) for k in service.list_keys(account_id)]})


@routes.post("/api/v1/admin/accounts/{account_id}/keys")
async def issue_key(request: web.Request) -> web.Response:
    _admin(request)
    account_id = service.account(request.match_info["account_id"]).id
    label = _string(await read_fields(request, {"label"}, _MAX_BODY), "label") if request.can_read_body else ""
    return json_response(_issued(await request.app[STORE].write(service.issue_key, account_id, label)), status=201)


@routes.delete("/api/v1/admin/keys/{key_id}")
async def revoke_key(request: web.Request) -> web.Response:
    _admin(request)
    key_id = request.match_info["key_id"]
    await request.app[STORE].write(service.revoke_key, key_id)
    return json_response({"revoked": key_id})


@routes.post("/api/v1/admin/accounts/{account_id}/credit")
async def credit(request: web.Request) -> web.Response:
    return await _move_money(request, service.credit)


@routes.post("/api/v1/admin/accounts/{account_id}/debit")
async def debit(request: web.Request) -> web.Response:
    return await _move_money(request, service.debit)


async def _move_money(request: web.Request, move: Callable[[str, int, str], LedgerEntry]) -> web.Response:
    """Credit or debit the account of the URL by `amount_usd`, for `reason`."""
    _admin(request)
    account_id = service.account(request.match_info["account_id"]).id
    body = await read_fields(request, {"amount_usd", "reason"}, _MAX_BODY)
    amount, reason = _amount(body), _string(body, "reason", required=True)
    return _entry(await request.app[STORE].write(move, account_id, amount, reason))


@routes.get("/api/v1/admin/wallets")
async def list_wallets(request: web.Request) -> web.Response:
    _admin(request)
    return json_response({"wallets": [wallet_json(w) for w in service.list_wallets()]})


@routes.post("/api/v1/admin/wallets")
async def whitelist_wallet(request: web.Request) -> web.Response:
    _admin(request)
    body = await read_fields(request, {"wallet_address", "chain", "account_id", "name", "role"}, _MAX_BODY)
    role = service.check_role(_string(body, "role", default="member"))
    address = _string(body, "wallet_address", required=True)
    chain, name = _string(body, "chain", default="base"), _string(body, "name")
    account_id = _string(body, "account_id") or None
    wallet = await request.app[STORE].write(
        lambda: service.whitelist_wallet(address, chain, account_id=account_id, name=name, role=role)
    )
    return json_response({"wallet": wallet_json(wallet)}, status=201)


@routes.delete("/api/v1/admin/wallets/{wallet_address}")
async def unwhitelist_wallet(request: web.Request) -> web.Response:
    _admin(request)
    removed = await request.app[STORE].write(service.unwhitelist_wallet, request.match_info["wallet_address"])
    return json_response({"removed": removed})


@routes.get("/api/v1/admin/feedback")
async def list_feedback(request: web.Request) -> web.Response:
    _admin(request)
    limit = int_query(request, "limit", 50, 1, 500)
    before = int_query(request, "before", 2**62, 1, 2**62)
    page, next_before = service.list_feedback(limit, before, request.query.get("type"))
    return json_response({"feedback": [feedback_json(f) for f in page], "next_before": next_before})
