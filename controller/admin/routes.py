"""`/api/v1/admin/*`: what `computalot-admin` does, for admin tokens: accounts, keys, wallets, money, feedback."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from controller.accounts.auth import ROLES, create_account, hash_token, issue_key, require_admin
from controller.accounts.models import Account, ApiKey
from controller.billing import accounts, ledger
from controller.billing.views import entry_json
from controller.core.errors import ValidationFailed, field_error
from controller.core.web import STORE, account_of, int_query, iso, json_response, not_found, read_json
from controller.feedback.models import Feedback
from controller.feedback.routes import TYPES, feedback_json
from controller.identity import wallets
from controller.identity.models import WalletIdentity

routes = web.RouteTableDef()


def _admin(request: web.Request) -> Account:
    account = account_of(request)
    require_admin(account)
    return account


async def _body(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    body = await read_json(request, 64 * 1024)
    if not isinstance(body, dict):
        raise ValidationFailed([field_error("body", "must be a JSON object")])
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValidationFailed(
            [field_error(k, f"unknown field; allowed: {', '.join(sorted(allowed))}") for k in unknown]
        )
    return body


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


def _target(account_id: str) -> Account:
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        raise not_found("account", account_id)
    return account


def account_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "role": account.role,
        "created_at": iso(account.created_at),
        **accounts.balance(account.id).to_json(),
    }


def key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "prefix": key.prefix,
        "label": key.label,
        "created_at": iso(key.created_at),
        "revoked_at": iso(key.revoked_at),
    }


def wallet_json(wallet: WalletIdentity) -> dict[str, Any]:
    return {
        "id": wallet.id,
        "chain": wallet.chain,
        "wallet_address": wallet.address,
        "account_id": wallet.account_id,
        "label": wallet.label,
        "created_at": iso(wallet.created_at),
    }


def _issue(account: Account, label: str) -> dict[str, Any]:
    token = issue_key(account, label)
    key = ApiKey.get(ApiKey.key_hash == hash_token(token))
    return {"key": key_json(key), "api_key": token}


@routes.get("/api/v1/admin/accounts")
async def list_accounts(request: web.Request) -> web.Response:
    _admin(request)
    return json_response({"accounts": [account_json(a) for a in Account.select().order_by(Account.created_at)]})


@routes.post("/api/v1/admin/accounts")
async def create_account_route(request: web.Request) -> web.Response:
    _admin(request)
    body = await _body(request, {"name", "role", "credit_usd"})
    name = _string(body, "name", required=True)
    role = _string(body, "role", default="member")
    if role not in ROLES:
        raise ValidationFailed([field_error("role", f"must be one of: {', '.join(ROLES)}")])
    credit = _amount(body, "credit_usd") if body.get("credit_usd") not in (None, 0) else 0

    def create() -> tuple[Account, dict[str, Any]]:
        account = create_account(name, role)
        if credit:
            accounts.credit(account.id, credit, "starting credit")
        return account, _issue(account, "created by an admin")

    account, issued = await request.app[STORE].write(create)
    return json_response({"account": account_json(account), **issued}, status=201)


@routes.get("/api/v1/admin/accounts/{account_id}/keys")
async def list_keys(request: web.Request) -> web.Response:
    _admin(request)
    account = _target(request.match_info["account_id"])
    keys = ApiKey.select().where(ApiKey.account == account.id).order_by(ApiKey.created_at)
    return json_response({"account_id": account.id, "keys": [key_json(k) for k in keys]})


@routes.post("/api/v1/admin/accounts/{account_id}/keys")
async def issue_key_route(request: web.Request) -> web.Response:
    _admin(request)
    account = _target(request.match_info["account_id"])
    label = _string(await _body(request, {"label"}), "label") if request.can_read_body else ""
    return json_response(await request.app[STORE].write(_issue, account, label), status=201)


@routes.delete("/api/v1/admin/keys/{key_id}")
async def revoke_key(request: web.Request) -> web.Response:
    _admin(request)
    key_id = request.match_info["key_id"]

    def revoke() -> int:
        return ApiKey.update(revoked_at=time.time()).where(ApiKey.id == key_id, ApiKey.revoked_at.is_null()).execute()

    if not await request.app[STORE].write(revoke):
        raise not_found("key", key_id)
    return json_response({"revoked": key_id})


@routes.post("/api/v1/admin/accounts/{account_id}/credit")
async def credit(request: web.Request) -> web.Response:
    _admin(request)
    account = _target(request.match_info["account_id"])
    body = await _body(request, {"amount_usd", "reason"})
    amount, reason = _amount(body), _string(body, "reason", required=True)

    def write() -> accounts.LedgerEntry:
        return accounts.add_entry(account.id, "credit", amount, reason=reason)

    entry = await request.app[STORE].write(write)
    return json_response({"entry": entry_json(entry), "balance": accounts.balance(account.id).to_json()}, status=201)


@routes.post("/api/v1/admin/accounts/{account_id}/debit")
async def debit(request: web.Request) -> web.Response:
    _admin(request)
    account = _target(request.match_info["account_id"])
    body = await _body(request, {"amount_usd", "reason"})
    amount, reason = _amount(body), _string(body, "reason", required=True)
    entry = await request.app[STORE].write(accounts.debit, account.id, amount, reason)
    return json_response({"entry": entry_json(entry), "balance": accounts.balance(account.id).to_json()}, status=201)


@routes.get("/api/v1/admin/wallets")
async def list_wallets(request: web.Request) -> web.Response:
    _admin(request)
    rows = WalletIdentity.select().where(WalletIdentity.revoked_at.is_null()).order_by(WalletIdentity.created_at)
    return json_response({"wallets": [wallet_json(w) for w in rows]})


@routes.post("/api/v1/admin/wallets")
async def whitelist_wallet(request: web.Request) -> web.Response:
    _admin(request)
    body = await _body(request, {"wallet_address", "chain", "account_id", "name", "role"})
    role = _string(body, "role", default="member")
    if role not in ROLES:
        raise ValidationFailed([field_error("role", f"must be one of: {', '.join(ROLES)}")])
    account_id = _string(body, "account_id") or None

    def write() -> WalletIdentity:
        return wallets.whitelist(
            _string(body, "wallet_address", required=True),
            _string(body, "chain", default="base"),
            account_id=account_id,
            name=_string(body, "name"),
            role=role,
        )

    try:
        wallet = await request.app[STORE].write(write)
    except ValueError as exc:
        raise ValidationFailed([field_error("wallet_address", str(exc))]) from None
    return json_response({"wallet": wallet_json(wallet)}, status=201)


@routes.delete("/api/v1/admin/wallets/{wallet_address}")
async def unwhitelist_wallet(request: web.Request) -> web.Response:
    _admin(request)
    address = request.match_info["wallet_address"]
    try:
        removed = await request.app[STORE].write(wallets.unwhitelist, address)
    except ValueError as exc:
        raise ValidationFailed([field_error("wallet_address", str(exc))]) from None
    if not removed:
        raise not_found("wallet", address)
    return json_response({"removed": address.lower()})


@routes.get("/api/v1/admin/feedback")
async def list_feedback(request: web.Request) -> web.Response:
    _admin(request)
    limit = int_query(request, "limit", 50, 1, 500)
    before = int_query(request, "before", 2**62, 1, 2**62)
    query = Feedback.select().where(Feedback.id < before)
    if kind := request.query.get("type"):
        if kind not in TYPES:
            raise ValidationFailed([field_error("type", f"must be one of: {', '.join(TYPES)}")])
        query = query.where(Feedback.type == kind)
    rows = list(query.order_by(Feedback.id.desc()).limit(limit + 1))
    page = rows[:limit]
    return json_response(
        {"feedback": [feedback_json(f) for f in page], "next_before": page[-1].id if len(rows) > limit else None}
    )
