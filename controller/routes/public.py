"""Unauthenticated routes: probes and documentation."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from controller.core.errors import Forbidden, NotReady
from controller.core.web import BROKER, HUB, ROSTER, STORE, json_response
from controller.live.setup import FEED, PROBE

routes = web.RouteTableDef()

#: served document path -> file under controller/docs/
DOCS = {
    "/skill.md": ("skill.md", "text/markdown"),
    "/llms.txt": ("llms.txt.md", "text/plain"),
    "/llms-full.txt": ("llms-full.txt.md", "text/plain"),
}


def doc_text(name: str) -> str:
    return resources.files("controller").joinpath("docs", name).read_text(encoding="utf-8")


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


async def serve_doc(request: web.Request) -> web.Response:
    name, content_type = DOCS[request.path]
    return web.Response(text=doc_text(name), content_type=content_type)


for _path in DOCS:
    routes.get(_path)(serve_doc)


@routes.post("/api/v1/auth/register")
async def register(request: web.Request) -> web.Response:
    raise Forbidden(
        "self-service registration is disabled during the beta",
        recommended_action="Ask an admin for an API key (computalot-admin create-account).",
    )
