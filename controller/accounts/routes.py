"""The caller's own account."""

from __future__ import annotations

from aiohttp import web

from controller.accounts.auth import account_of
from controller.core.web import iso, json_response

routes = web.RouteTableDef()


@routes.get("/api/v1/account")
async def get_account(request: web.Request) -> web.Response:
    """Who the token belongs to, and the secret that signs its job callbacks (X-Computalot-Signature).

    The secret is shown to members and admins, who submit the jobs it signs; a viewer (read-only) sees null, so
    a key handed out for reading cannot forge callbacks.
    """
    account = account_of(request)
    return json_response(
        {
            "id": account.id,
            "name": account.name,
            "role": account.role,
            "webhook_secret": None if account.role == "viewer" else account.webhook_secret,
            "created_at": iso(account.created_at),
        }
    )
