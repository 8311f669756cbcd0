"""The caller's own account."""

from __future__ import annotations

from aiohttp import web

from controller.accounts.auth import account_of
from controller.core.web import iso, json_response

routes = web.RouteTableDef()


@routes.get("/api/v1/account")
async def get_account(request: web.Request) -> web.Response:
    """Who the token belongs to, and the secret that signs its job callbacks (X-Computalot-Signature)."""
    account = account_of(request)
    return json_response(
        {
            "id": account.id,
            "name": account.name,
            "role": account.role,
            "webhook_secret": account.webhook_secret,
            "created_at": iso(account.created_at),
        }
    )
