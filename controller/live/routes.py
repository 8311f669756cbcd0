"""Live routes: SSE streams of jobs and projects, and where the ZeroMQ event publisher listens."""

from __future__ import annotations

from aiohttp import web

from controller.accounts.auth import account_of
from controller.core.errors import NotFound, ValidationFailed, field_error
from controller.core.web import SETTINGS, STORE, json_response, running
from controller.jobs.models import Job
from controller.jobs.routes import own_job
from controller.live import sse
from controller.live.setup import FEED, PUBLISHER
from controller.projects.routes import own_project

routes = web.RouteTableDef()

#: Jobs one watch stream may follow.
MAX_WATCH = 100


async def _serve(request: web.Request, scope: sse.Scope) -> web.StreamResponse:
    app = request.app
    stream = sse.Stream(request, scope, running(app, FEED, "the event feed"), app[STORE], app[SETTINGS].sse_heartbeat_s)
    return await stream.serve()


@routes.get("/api/v1/jobs/watch")
async def watch_jobs(request: web.Request) -> web.StreamResponse:
    return await _serve(request, sse.watch_scope(watched_jobs(request)))


@routes.get("/api/v1/jobs/{job_id}/stream")
async def stream_job(request: web.Request) -> web.StreamResponse:
    return await _serve(request, sse.job_scope(own_job(request).id))


@routes.get("/api/v1/projects/{name}/stream")
async def stream_project(request: web.Request) -> web.StreamResponse:
    return await _serve(request, sse.project_scope(own_project(request).id))


def watched_jobs(request: web.Request) -> list[str]:
    """The ids of `?ids=a,b,c`, each one of the caller's jobs.

    Raises:
      ValidationFailed: no id, or more than `MAX_WATCH`.
      NotFound: an id names no job of the caller.
    """
    ids = list(dict.fromkeys(i.strip() for i in request.query.get("ids", "").split(",") if i.strip()))
    if not 1 <= len(ids) <= MAX_WATCH:
        raise ValidationFailed(
            [field_error("ids", f"must list 1 to {MAX_WATCH} job ids separated by commas, got {len(ids)}")]
        )
    account = account_of(request)
    found = {j.id for j in Job.select(Job.id).where(Job.id.in_(ids), Job.account == account.id)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"job {missing[0]!r} not found", details={"job": missing[0], "missing": missing})
    return ids


@routes.get("/api/v1/account/stream-endpoint")
async def stream_endpoint(request: web.Request) -> web.Response:
    account = account_of(request)
    return json_response(
        {
            "endpoint": running(request.app, PUBLISHER, "the event publisher").endpoint,
            "account_id": account.id,
            "topic": f"{account.id}/",
            "format": "msgpack",
            "fields": ["seq", "kind", "job_id", "data", "created_at"],
        }
    )
