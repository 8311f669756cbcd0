"""`GET /metrics`: who may scrape it, and what it counts (HTTP by route, states, agents, task durations)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import peewee as pw
import pytest
from prometheus_client.parser import text_string_to_metric_families

from broker.messages import AgentHeartbeat, Capabilities
from controller.accounts.auth import create_account, issue_key
from controller.agents.roster import ROSTER
from controller.app import create_app
from controller.billing import ledger
from controller.billing.models import Hold
from controller.core.ids import new_id
from controller.core.settings import Settings
from controller.core.web import STORE
from controller.jobs import outcomes
from controller.jobs.models import Job, Task
from controller.live.feed import FeedEvent
from controller.ops.metrics import METRICS, Metrics, billing_totals
from controller.schema import open_database
from tests.controller.billing.support import claim, job_body, new_account, result, submit

METRICS_TOKEN = "scrape-secret-0123456789"
#: A header that makes a loopback request look as if a proxy forwarded it from elsewhere.
REMOTE = {"X-Forwarded-For": "203.0.113.7"}


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> Any:
    return await aiohttp_client(create_app(Settings(data_dir=tmp_path, metrics_token=METRICS_TOKEN)))


async def token_of(client: Any, role: str) -> str:
    def make() -> str:
        return issue_key(create_account(f"m-{new_id('x', 3)}", role))

    return await client.app[STORE].write(make)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status == 200
    return samples(await response.text())


async def test_a_local_request_without_credentials_is_answered(client: Any) -> None:
    # Given a request from loopback with no proxy header and no token
    response = await client.get("/metrics")

    # Then it gets the Prometheus text
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "computalot_http_requests_total" in await response.text()


async def test_a_remote_looking_request_without_credentials_answers_401(client: Any) -> None:
    response = await client.get("/metrics", headers=REMOTE)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"


async def test_a_remote_looking_request_with_the_metrics_token_is_answered(client: Any) -> None:
    response = await client.get("/metrics", headers={**REMOTE, "Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status == 200


async def test_a_remote_looking_request_with_an_admin_token_is_answered(client: Any) -> None:
    token = await token_of(client, "admin")
    response = await client.get("/metrics", headers={**REMOTE, "Authorization": f"Bearer {token}"})
    assert response.status == 200


async def test_a_remote_looking_request_with_a_member_token_answers_403(client: Any) -> None:
    token = await token_of(client, "member")
    response = await client.get("/metrics", headers={**REMOTE, "Authorization": f"Bearer {token}"})
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "forbidden"


async def test_a_remote_looking_request_with_a_wrong_token_answers_401(client: Any) -> None:
    response = await client.get("/metrics", headers={**REMOTE, "Authorization": "Bearer nope"})
    assert response.status == 401


async def test_requests_are_counted_by_canonical_route_and_status(client: Any) -> None:
    # Given requests to one route with two different job ids, and to an unknown path
    token = await token_of(client, "member")
    for job_id in ("job_a", "job_b"):
        await client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"})
    await client.get("/no/such/path/42")

    # When metrics are scraped
    found = await scrape(client)

    # Then the counter names the route template, not the raw paths, with the final status
    route = (("method", "GET"), ("route", "/api/v1/jobs/{job_id}"), ("status", "404"))
    assert found[("computalot_http_requests_total", route)] == 2
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert found[("computalot_http_requests_total", unmatched)] == 1
    assert not any("job_a" in str(labels) for _, labels in found)
    timed = (("le", "+Inf"), ("method", "GET"), ("route", "/api/v1/jobs/{job_id}"))
    assert found[("computalot_http_request_duration_seconds_bucket", timed)] == 2


async def test_jobs_are_gauged_by_status_and_every_status_is_present(client: Any) -> None:
    # Given two running jobs and a completed one
    def make() -> None:
        account = create_account("states")
        for status in ("running", "running", "completed"):
            Job.create(id=new_id("job"), account=account, status=status, spec={}, task_count=1, created_at=time.time())

    await client.app[STORE].write(make)

    # Then the gauges count them, and statuses without jobs read 0
    found = await scrape(client)
    assert found[("computalot_jobs", (("status", "running"),))] == 2
    assert found[("computalot_jobs", (("status", "completed"),))] == 1
    assert found[("computalot_jobs", (("status", "planning"),))] == 0
    assert found[("computalot_tasks", (("status", "queued"),))] == 0


async def test_queue_depth_agents_and_billing_are_exported(client: Any) -> None:
    # Given a live agent whose heartbeat reports what it ran
    beat = AgentHeartbeat(
        agent_id="agt_one",
        capabilities=Capabilities(),
        slots=4,
        running_tasks=("t1",),
        tasks_run=7,
        tasks_failed=2,
        task_seconds=12.5,
        slots_busy=1,
    )
    client.app[ROSTER].update(beat)

    # When metrics are scraped
    found = await scrape(client)

    # Then the agent's figures carry its label, queues have a depth, and billing reads its tables (or 0)
    agent = (("agent", "agt_one"),)
    assert found[("computalot_agents_live", ())] == 1
    assert found[("computalot_agent_tasks_total", agent)] == 7
    assert found[("computalot_agent_task_failures_total", agent)] == 2
    assert found[("computalot_agent_task_seconds_total", agent)] == 12.5
    assert found[("computalot_agent_slots_busy", agent)] == 1
    assert found[("computalot_agent_slots", agent)] == 4
    assert found[("computalot_queue_depth", (("queue", "computalot.results"),))] == 0
    assert found[("computalot_billing_held_usd", ())] == billing_totals()["held_usd"]
    assert ("computalot_billing_settled_usd", ()) in found


def test_task_durations_are_observed_from_running_to_terminal_task_events() -> None:
    # Given the events of a task that ran for 3 seconds and of one whose start was never seen
    metrics = Metrics()

    def task_event(seq: int, task_id: str, status: str, at: float) -> FeedEvent:
        return FeedEvent(seq, "task", "acc", "job", None, {"task_id": task_id, "status": status}, at)

    # When the feed hands them over
    metrics.observe_events([task_event(1, "t1", "running", 100.0), task_event(2, "t2", "completed", 101.0)])
    metrics.observe_events([task_event(3, "t1", "completed", 103.0)])

    # Then one duration of 3 s is recorded under its status
    text = metrics.render().decode()
    found = samples(text)
    assert found[("computalot_task_duration_seconds_count", (("status", "completed"),))] == 1
    assert found[("computalot_task_duration_seconds_sum", (("status", "completed"),))] == 3.0


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[pw.Database]:
    url = f"sqlite:///{tmp_path / 'm.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_db_url")
    database = open_database(url)
    yield database
    database.close()


def test_the_billing_gauges_follow_money_held_and_settled_on_every_database(any_db: pw.Database) -> None:
    # Given a one-task job whose hold was placed
    account = new_account(any_db, 10**9)
    with any_db.atomic():
        job = submit(account, job_body(tasks=1))
    hold = Hold.get(Hold.job == job.id)
    metrics = Metrics()

    # When metrics are scraped, then the hold is counted as held
    found = samples(metrics.render().decode())
    assert found[("computalot_billing_held_usd", ())] == ledger.usd(hold.amount_micro) > 0
    assert found[("computalot_billing_settled_usd", ())] == 0

    # When the task completes and the job is settled
    task = Task.get(Task.job == job.id)
    with any_db.atomic():
        claim(task.id)
        outcomes.apply_result(result(Task.get_by_id(task.id)))

    # Then nothing is held any more and the charge is counted as settled
    charged = Hold.get_by_id(hold.id).charged_micro
    found = samples(metrics.render().decode())
    assert found[("computalot_billing_held_usd", ())] == 0
    assert found[("computalot_billing_settled_usd", ())] == ledger.usd(charged) > 0


def test_each_app_has_its_own_registry(tmp_path: Path) -> None:
    first, second = create_app(Settings(data_dir=tmp_path)), create_app(Settings(data_dir=tmp_path))
    assert first[METRICS].registry is not second[METRICS].registry
