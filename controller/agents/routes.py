"""Routes for agents (admin tokens): where to stream, claiming an attempt, fetching project code."""

from __future__ import annotations

import re

from aiohttp import web

from controller.accounts.auth import account_of, require_admin
from controller.agents.hub import HUB
from controller.agents.roster import ROSTER
from controller.core.errors import ValidationFailed, field_error
from controller.core.web import SETTINGS, STORE, json_response, not_found, read_json, running
from controller.jobs import outcomes
from controller.projects.publish import revision_path

routes = web.RouteTableDef()

_HASH_RE = re.compile(r"^[0-9a-f]{64}$")


@routes.get("/api/v1/agent/config")
async def agent_config(request: web.Request) -> web.Response:
    require_admin(account_of(request))
    hub = running(request.app, HUB, "the agent hub")
    return json_response({"events_endpoint": hub.events_endpoint, "control_endpoint": hub.control_endpoint})


@routes.post("/api/v1/agent/claim")
async def claim(request: web.Request) -> web.Response:
    require_admin(account_of(request))
    body = await read_json(request, 4096)
    fields = body if isinstance(body, dict) else {}  # any other JSON is refused below, like missing fields
    task_id, attempt, agent_id = fields.get("task_id"), fields.get("attempt"), fields.get("agent_id")
    if not isinstance(task_id, str) or not isinstance(attempt, int) or not isinstance(agent_id, str):
        raise ValidationFailed([field_error("body", "needs task_id (string), attempt (integer), agent_id (string)")])
    roster = request.app[ROSTER]
    outcome = await request.app[STORE].write(outcomes.claim_task, task_id, attempt, agent_id, roster.is_running)
    return json_response({"run": outcome.run, "reason": outcome.reason})


@routes.get("/api/v1/agent/revisions/{digest}")
async def revision(request: web.Request) -> web.StreamResponse:
    require_admin(account_of(request))
    digest = request.match_info["digest"]
    path = revision_path(request.app[SETTINGS].revisions_dir, digest)
    if not _HASH_RE.match(digest) or not path.is_file():
        raise not_found("revision", digest)
    return web.FileResponse(path, headers={"Content-Type": "application/gzip"})
