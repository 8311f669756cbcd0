"""Routes for agents (agent keys only): where to stream, claiming an attempt, fetching the code of held attempts."""

from __future__ import annotations

import re

from aiohttp import web

from controller.accounts.auth import account_of, require_agent
from controller.agents import access
from controller.agents.hub import HUB
from controller.agents.roster import ROSTER
from controller.core.errors import Forbidden, ValidationFailed, field_error
from controller.core.web import SETTINGS, STORE, json_response, not_found, read_json, running
from controller.jobs import outcomes
from controller.projects.publish import revision_path

routes = web.RouteTableDef()

_HASH_RE = re.compile(r"^[0-9a-f]{64}$")


def agent_id_of(request: web.Request) -> str:
    """The calling agent's id: its key's account id (the auth middleware let only agent keys through)."""
    account = account_of(request)
    require_agent(account)
    return account.id


@routes.get("/api/v1/agent/config")
async def agent_config(request: web.Request) -> web.Response:
    """The agent's id (from its key) and the ZeroMQ endpoints to stream to and listen on."""
    agent_id = agent_id_of(request)
    hub = running(request.app, HUB, "the agent hub")
    return json_response(
        {"agent_id": agent_id, "events_endpoint": hub.events_endpoint, "control_endpoint": hub.control_endpoint}
    )


@routes.post("/api/v1/agent/claim")
async def claim(request: web.Request) -> web.Response:
    """Claim `attempt` of `task_id` for the calling agent; a body `agent_id` must be the key's own."""
    agent_id = agent_id_of(request)
    body = await read_json(request, 4096)
    fields = body if isinstance(body, dict) else {}  # any other JSON is refused below, like missing fields
    task_id, attempt = fields.get("task_id"), fields.get("attempt")
    if not isinstance(task_id, str) or not isinstance(attempt, int) or not isinstance(fields.get("agent_id", ""), str):
        raise ValidationFailed([field_error("body", "needs task_id (string), attempt (integer), agent_id (string)")])
    if fields.get("agent_id", agent_id) != agent_id:
        raise Forbidden(
            "an agent claims for itself only: agent_id is not this key's agent",
            recommended_action="Send the agent_id GET /api/v1/agent/config answers, or leave it out.",
        )
    roster = request.app[ROSTER]
    outcome = await request.app[STORE].write(outcomes.claim_task, task_id, attempt, agent_id, roster.is_running)
    return json_response({"run": outcome.run, "reason": outcome.reason})


@routes.get("/api/v1/agent/revisions/{digest}")
async def revision(request: web.Request) -> web.StreamResponse:
    """A revision's tarball, for an agent holding an attempt of a job that runs it (404 otherwise)."""
    agent_id = agent_id_of(request)
    digest = request.match_info["digest"]
    path = revision_path(request.app[SETTINGS].revisions_dir, digest)
    if not _HASH_RE.match(digest) or not access.holds_revision(agent_id, digest) or not path.is_file():
        raise not_found("revision", digest)
    return web.FileResponse(path, headers={"Content-Type": "application/gzip"})
