"""Artifact routes for agents (agent keys only): fetch inputs of held attempts, upload outputs of held attempts."""

from __future__ import annotations

from aiohttp import web

from controller.agents import access
from controller.agents.routes import agent_id_of
from controller.artifacts.download import send_artifact
from controller.artifacts.models import Artifact
from controller.artifacts.routes import check_declared_length, header_filename
from controller.artifacts.service import ARTIFACTS, artifact_json
from controller.artifacts.streams import request_chunks
from controller.core.errors import Forbidden, ValidationFailed, field_error
from controller.core.web import json_response, not_found
from controller.jobs.models import Job, Task

routes = web.RouteTableDef()


@routes.get("/api/v1/agent/artifacts/{artifact_id}")
async def fetch(request: web.Request) -> web.StreamResponse:
    """An input of an attempt the agent holds; any other artifact is as unknown as a made-up id (404)."""
    agent_id = agent_id_of(request)
    artifact = Artifact.get_or_none(Artifact.id == request.match_info["artifact_id"])
    if artifact is None or not access.holds_input(agent_id, artifact):
        raise not_found("artifact", request.match_info["artifact_id"])
    return await send_artifact(request, request.app[ARTIFACTS], artifact)


@routes.post("/api/v1/agent/artifacts")
async def store_output(request: web.Request) -> web.Response:
    """`?job_id=&task_id=[&attempt=]` and the raw body: an output of an attempt the agent holds, owned by the job's
    account."""
    agent_id = agent_id_of(request)
    job_id, task_id = request.query.get("job_id", ""), request.query.get("task_id", "")
    job = Job.get_or_none(Job.id == job_id)
    if job is None or Task.get_or_none(Task.id == task_id, Task.job == job_id) is None:
        raise ValidationFailed([field_error("task_id", "must name a task of the job named by job_id")])
    if not access.holds_attempt(agent_id, job_id, task_id, _attempt(request)):
        raise Forbidden(
            f"this agent holds no running attempt of task {task_id}",
            recommended_action="Upload outputs only for the attempt this agent claimed, before reporting its result.",
        )
    artifacts = request.app[ARTIFACTS]
    check_declared_length(request, artifacts.settings.max_artifact_bytes)
    artifact, created = await artifacts.ingest(job.account_id, header_filename(request), request_chunks(request))
    return json_response(artifact_json(artifact), status=201 if created else 200)


def _attempt(request: web.Request) -> int | None:
    """The `attempt` query parameter, when the agent names one."""
    raw = request.query.get("attempt")
    if raw is None:
        return None
    if not raw.isdigit():
        raise ValidationFailed([field_error("attempt", "must be a positive integer")])
    return int(raw)
