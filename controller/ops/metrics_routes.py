"""`GET /metrics`: the Prometheus exposition, for local scrapers, admin tokens and the metrics token."""

from __future__ import annotations

import hmac
import ipaddress

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from controller.accounts.auth import require_admin, resolve_token
from controller.core.errors import Unauthorized
from controller.core.web import SETTINGS, STORE
from controller.ops.metrics import METRICS

routes = web.RouteTableDef()

#: Headers a reverse proxy adds: a request carrying one came from further away than its peer address says.
_PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def is_local(request: web.Request) -> bool:
    """Whether the request comes from this host: a loopback peer and no sign of a proxy in between."""
    if any(h in request.headers for h in _PROXY_HEADERS):
        return False
    peer = request.transport.get_extra_info("peername") if request.transport is not None else None
    if not peer:
        return False
    try:
        return ipaddress.ip_address(peer[0]).is_loopback
    except ValueError:  # a unix socket's peer name
        return False


def authorize_scrape(request: web.Request) -> None:
    """Let local requests, the metrics token and admin tokens through.

    Raises:
      Unauthorized: a remote request without a valid token.
      Forbidden: a valid token of an account that is not an admin.
    """
    if is_local(request):
        return
    header = request.headers.get("Authorization")
    if not header:
        raise Unauthorized(
            "metrics need a token from a remote address",
            recommended_action="Scrape from the controller's host, or send the metrics token or an admin token.",
        )
    expected = request.app[SETTINGS].metrics_token
    scheme, _, token = header.partition(" ")
    if expected and scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected.encode()):
        return
    require_admin(resolve_token(header))


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    authorize_scrape(request)
    body = await request.app[STORE].read(request.app[METRICS].render)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
