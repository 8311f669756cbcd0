"""Public identity routes: wallet sign-in (a challenge, then a session token) and the closed self-registration."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from controller.accounts.models import Account
from controller.core.errors import ComputalotError, Forbidden, ValidationFailed, field_error
from controller.core.ratelimit import RateLimiter, client_key
from controller.core.web import SETTINGS, STORE, iso, json_response, read_json
from controller.identity import siwe, wallets

routes = web.RouteTableDef()

#: challenges and verifications per client address and minute
SIGN_IN_LIMITER = web.AppKey("sign_in_limiter", RateLimiter)


def setup(app: web.Application) -> None:
    """Add the wallet routes and their rate limit."""
    app[SIGN_IN_LIMITER] = RateLimiter(limit=30, window_s=60)
    app.add_routes(routes)


def _fields(body: Any, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationFailed([field_error("body", "must be a JSON object")])
    errors = [field_error(k, "unknown field") for k in sorted(set(body) - {*required, *optional})]
    errors += [field_error(k, "required string") for k in required if not isinstance(body.get(k), str)]
    if errors:
        raise ValidationFailed(errors)
    return body


@routes.post("/api/v1/auth/wallet/challenge")
async def create_challenge(request: web.Request) -> web.Response:
    request.app[SIGN_IN_LIMITER].check(client_key(request))
    body = _fields(await read_json(request, 16 * 1024), ("wallet_address",), ("chain",))
    chain = body.get("chain", "base")
    errors = [] if chain in siwe.CHAINS else [field_error("chain", f"must be one of: {', '.join(siwe.CHAINS)}")]
    try:
        address = siwe.normalize_address(body["wallet_address"])
    except ValueError as exc:
        errors.append(field_error("wallet_address", str(exc)))
    if errors:
        raise ValidationFailed(errors)
    base_url = request.app[SETTINGS].base_url
    challenge = await request.app[STORE].write(
        wallets.create_challenge, address, chain, urlsplit(base_url).netloc, base_url
    )
    return json_response(
        {
            "challenge_id": challenge.id,
            "message": challenge.message,
            "expires_at": iso(challenge.expires_at),
            "chain": chain,
            "chain_id": siwe.CHAINS[chain],
        }
    )


@routes.post("/api/v1/auth/wallet/verify")
async def verify(request: web.Request) -> web.Response:
    request.app[SIGN_IN_LIMITER].check(client_key(request))
    body = _fields(await read_json(request, 16 * 1024), ("challenge_id", "wallet_address", "signature"))
    outcome = await request.app[STORE].write(
        wallets.redeem, body["challenge_id"], body["wallet_address"], body["signature"]
    )
    if isinstance(outcome, ComputalotError):
        raise outcome
    token, session = outcome
    account = Account.get_by_id(session.account_id)
    return json_response(
        {
            "token": token,
            "expires_at": iso(session.expires_at),
            "account": {"id": account.id, "name": account.name, "role": account.role},
        }
    )


@routes.post("/api/v1/auth/register")
async def register(request: web.Request) -> web.Response:
    raise Forbidden(
        "self-service registration is disabled during the beta",
        recommended_action="Ask an admin for an API key (computalot-admin create-account).",
    )
