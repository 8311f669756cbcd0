"""Artifact routes for agents (admin tokens): fetch task inputs, upload task outputs for the job's account."""

from __future__ import annotations

from aiohttp import web

from controller.accounts.auth import account_of, require_admin
from controller.artifacts.download import send_artifact
from controller.artifacts.models import Artifact
from controller.artifacts.routes import check_declared_length, header_filename
from controller.artifacts.service import ARTIFACTS, artifact_json
from controller.artifacts.streams import request_chunks
from controller.core.errors import ValidationFailed, field_error
from controller.core.web import json_response, not_found
from controller.jobs.models import Job, Task

routes = web.RouteTableDef()


@routes.get("/api/v1/agent/artifacts/{artifact_id}")
async def fetch(request: web.Request) -> web.StreamResponse:
    require_admin(account_of(request))
    artifact = Artifact.get_or_none(Artifact.id == request.match_info["artifact_id"])
    if artifact is None:
        raise not_found("artifact", request.match_info["artifact_id"])
    return await send_artifact(request, request.app[ARTIFACTS], artifact)


@routes.post("/api/v1/agent/artifacts")
async def store_output(request: web.Request) -> web.Response:
    """`?job_id=&task_id=` and the raw body: an artifact owned by the job's account."""
    require_admin(account_of(request))
    job_id, task_id = request.query.get("job_id", ""), request.query.get("task_id", "")
    job = Job.get_or_none(Job.id == job_id)
    if job is None or Task.get_or_none(Task.id == task_id, Task.job == job_id) is None:
        raise ValidationFailed([field_error("task_id", "must name a task of the job named by job_id")])
    artifacts = request.app[ARTIFACTS]
    check_declared_length(request, artifacts.settings.max_artifact_bytes)
    artifact, created = await artifacts.ingest(job.account_id, header_filename(request), request_chunks(request))
    return json_response(artifact_json(artifact), status=201 if created else 200)
