"""Probes: liveness (`/health`, `/live`) and readiness (`/ready`)."""

from __future__ import annotations

from aiohttp import web

from controller.agents.hub import HUB
from controller.agents.roster import ROSTER
from controller.core.errors import NotReady
from controller.core.web import BROKER, STORE, json_response
from controller.live.setup import FEED, PROBE

routes = web.RouteTableDef()


@routes.get("/health")
@routes.get("/live")
async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


@routes.get("/ready")
async def ready(request: web.Request) -> web.Response:
    app = request.app
    checks = {
        "database": STORE in app and app[STORE].ping(),
        "broker": BROKER in app and PROBE in app and await app[PROBE].ping(),
        "event_hub": HUB in app and FEED in app and app[FEED].running,
    }
    if not all(checks.values()):
        raise NotReady("the controller is not ready", details={"checks": checks})
    return json_response({"status": "ready", "checks": checks, "live_agents": len(request.app[ROSTER].live())})
