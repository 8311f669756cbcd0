"""Route resolution does not depend on the order in which domains add their routes."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from controller.jobs import routes as job_routes
from controller.live import routes as live_routes


async def test_jobs_watch_reaches_the_watch_stream_even_when_job_routes_come_first() -> None:
    # Given an app whose job routes are added before the live ones
    app = web.Application()
    app.add_routes(job_routes.routes)
    app.add_routes(live_routes.routes)
    # When GET /api/v1/jobs/watch and GET /api/v1/jobs/job_1 are resolved
    watch = await app.router.resolve(make_mocked_request("GET", "/api/v1/jobs/watch", app=app))
    job = await app.router.resolve(make_mocked_request("GET", "/api/v1/jobs/job_1", app=app))
    # Then the first is the watch stream and the second the job read
    assert watch.handler is live_routes.watch_jobs
    assert job.handler is job_routes.get_job
    assert job["job_id"] == "job_1"
