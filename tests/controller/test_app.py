"""`create_app(background=False)`: every route is served, nothing runs in the background."""

from __future__ import annotations

import asyncio
import time

import pytest

from broker.messages import AgentHeartbeat, Capabilities
from controller.agents.hub import HUB
from controller.agents.roster import ROSTER
from controller.jobs.dispatcher import DISPATCHER
from controller.jobs.models import Task
from controller.live.setup import FEED
from recipes.packing.baselines import GRID_BASELINE
from tests.controller.api_support import Api

PACKING_EVAL = {"recipe": "packing", "payload": {"operation": "eval", "candidate": list(GRID_BASELINE)}}


async def submit_packing_job(api: Api) -> tuple[str, str]:
    """(member token, job id) of a packing eval, with a live agent offering the recipe."""
    beat = AgentHeartbeat(agent_id="a1", capabilities=Capabilities(recipes=("packing",)))
    api.app[ROSTER].update(beat, now=time.monotonic())
    token = await api.token(credit_micro=10_000_000)
    status, job, _ = await api.call("POST", "/api/v1/jobs", token, json=PACKING_EVAL)
    assert status == 201, job
    return token, job["id"]


async def test_without_background_loops_no_hub_or_feed_runs_and_the_roster_starts_empty(api: Api) -> None:
    # Given a controller built with background=False (the `api` fixture)
    # Then it holds an empty roster and no agent hub or event feed
    assert api.app[ROSTER].live() == []
    assert HUB not in api.app and FEED not in api.app


@pytest.mark.parametrize(
    ("path", "role"),
    [("/api/v1/agent/config", "agent"), ("/api/v1/account/stream-endpoint", "admin"), ("/ready", "admin")],
)
async def test_without_background_loops_routes_that_need_them_answer_503_not_ready(
    api: Api, path: str, role: str
) -> None:
    # Given a controller built with background=False and a key the route accepts (agent routes take agent keys only)
    token = await api.token(role)
    # When a route that needs the hub, the publisher or the feed is called
    status, body, _ = await api.call("GET", path, token)
    # Then it answers 503 not_ready instead of failing with a 500
    assert (status, body["error"]["code"]) == (503, "not_ready"), body


async def test_without_background_loops_a_task_stays_pending_until_the_dispatcher_is_called(api: Api) -> None:
    # Given a submitted packing job on a controller built with background=False
    _, job_id = await submit_packing_job(api)
    await asyncio.sleep(0.2)  # a running dispatcher, woken by the submission, would have sent the task by now
    # Then none of its tasks was sent to the broker
    assert [t.enqueued for t in Task.select().where(Task.job == job_id)] == [False]
    # When the test runs one dispatch pass itself
    sent = await api.app[DISPATCHER].dispatch_once()
    # Then the task is sent then, and only then
    assert sent == 1
    assert [t.enqueued for t in Task.select().where(Task.job == job_id)] == [True]


async def test_without_background_loops_a_job_is_still_cancelled(api: Api) -> None:
    # Given a submitted packing job on a controller built with background=False (no hub to tell agents)
    token, job_id = await submit_packing_job(api)
    # When its owner cancels it
    status, body, _ = await api.call("PUT", f"/api/v1/jobs/{job_id}/cancel", token)
    # Then it is cancelled
    assert (status, body["status"]) == (200, "cancelled"), body
