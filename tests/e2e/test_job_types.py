"""Every job type and scheduling feature end to end on the embedded platform."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from aiohttp import web
from computalot import ComputalotClient, ValidationError

from tests.conftest_platform import Platform, make_project, process_manifest
from tests.processes import wait_for

SCRIPT = (Path(__file__).parent / "job_types_script.py").read_text()


@pytest.fixture
def typed_project(client: ComputalotClient) -> str:
    return make_project(client, {"computalot.project.json": process_manifest(["python3", "job.py"]), "job.py": SCRIPT})


def test_a_sweep_ranks_every_combination_and_names_the_best(client: ComputalotClient, typed_project: str):
    # Given a 2x3 grid scored by a*b
    job = client.submit_job(
        type="sweep",
        project=typed_project,
        parameters={"a": [1, 2], "b": [10, 20, 30]},
        fixed_payload={"k": 1},
        rank_by="score",
    )
    assert job["total_tasks"] == 6
    results = client.wait(job["id"], timeout_s=60)
    # Then the best is a=2, b=30 and the ranking is by score, highest first
    best = results["aggregate_result"]["best"]
    assert best["params"] == {"a": 2, "b": 30} and best["value"] == 60
    assert [r["value"] for r in results["aggregate_result"]["ranking"]] == [60, 40, 30, 20, 20, 10]
    assert results["aggregate_aliases"] == {"best_params": {"a": 2, "b": 30}, "best_value": 60}
    # And a minimising rank_by on a nested field picks the same combination
    lowest = client.submit_job(
        type="sweep",
        project=typed_project,
        parameters={"a": [1, 2], "b": [10, 30]},
        rank_by={"field": "metrics.loss", "order": "min"},
    )
    assert client.wait(lowest["id"], timeout_s=60)["aggregate_aliases"]["best_params"] == {"a": 2, "b": 30}


def test_a_benchmark_summarises_replicas_per_candidate_and_ranks_by_mean(client: ComputalotClient, typed_project: str):
    job = client.submit_job(
        type="benchmark",
        project=typed_project,
        candidates={"fast": {"base": 1}, "slow": {"base": 5}},
        shared_payload={"a": 2},
        replicas=3,
        rank_by={"field": "time", "order": "min"},
    )
    assert job["total_tasks"] == 6
    results = client.wait(job["id"], timeout_s=60)
    aggregate = results["aggregate_result"]
    # Then replicas 0,1,2 give times base+0..2: mean base+1, sample std 1
    fast = aggregate["candidates"]["fast"]
    assert fast["n"] == 3
    assert fast["fields"]["time"] == {"n": 3, "mean": 2.0, "std": 1.0, "min": 1.0, "max": 3.0}
    assert [r["candidate"] for r in aggregate["ranking"]] == ["fast", "slow"]
    assert results["aggregate_aliases"] == {"best_candidate": "fast", "best_mean": 2.0}


def test_map_reduce_with_operators_reduces_in_the_controller(client: ComputalotClient, typed_project: str):
    job = client.submit_job(
        type="map_reduce",
        project=typed_project,
        payload={},
        split={"chunks": 4, "range_field": "seeds", "total": 10},
        reduce={"operators": {"sum": "sum", "n": "sum", "edge": "weighted_mean:n", "tags": "concat", "score": "count"}},
    )
    results = client.wait(job["id"], timeout_s=60)
    # chunks of 10 seeds: sizes 3,3,2,2 starting at 0,3,6,8
    assert results["aggregate_result"] == {
        "sum": 45,
        "n": 10,
        "edge": (0 * 3 + 1 * 3 + 2 * 2 + 3 * 2) / 10,
        "tags": [0, 1, 2, 3],
        "score": 0,
    }
    assert results["aggregate_aliases"]["sum"] == 45


def test_map_reduce_with_a_reduce_command_runs_one_more_task_over_the_map_results(
    client: ComputalotClient, typed_project: str
):
    job = client.submit_job(
        type="map_reduce",
        project=typed_project,
        payload={},
        split={"chunks": 3, "range_field": "seeds", "total": 9},
        reduce={"runner_command": ["python3", "job.py"]},
    )
    results = client.wait(job["id"], timeout_s=60)
    assert results["status"] == "completed"
    assert results["aggregate_result"] == {"total": 36, "parts": 3}
    assert results["summary"]["total"] == 4 and len(results["tasks"]) == 4


def test_keyed_and_weighted_avg_merges(client: ComputalotClient, typed_project: str):
    keyed = client.submit_job(
        project=typed_project, payload={"a": [1, 2, 3]}, fan_out={"by": "a"}, merge_strategy="keyed"
    )
    assert set(client.wait(keyed["id"], timeout_s=60)["aggregate_result"]) == {"1", "2", "3"}
    by_name = client.submit_job(
        project=typed_project,
        payload={},
        fan_out={"items": [{"a": 1, "name": "x"}, {"a": 2, "name": "y"}]},
        merge_strategy="keyed",
        merge={"key_field": "name"},
    )
    assert client.wait(by_name["id"], timeout_s=60)["aggregate_result"]["y"]["score"] == 2
    weighted = client.submit_job(
        project=typed_project,
        payload={},
        fan_out={"items": [{"a": 1, "weight": 1}, {"a": 4, "weight": 3}], "batch_size": 2},
        merge_strategy="weighted_avg",
        merge={"weight_field": "weight"},
    )
    aggregate = client.wait(weighted["id"], timeout_s=60)["aggregate_result"]
    assert aggregate["score"] == pytest.approx((1 * 1 + 4 * 3) / 4)
    assert (aggregate["n"], aggregate["total_weight"]) == (2, 4.0)


def test_a_batch_answers_each_entry_on_its_own_in_order(
    embedded: Platform, client: ComputalotClient, typed_project: str
):
    token = embedded.new_token()
    make_project(
        ComputalotClient(embedded.url, token),
        {"computalot.project.json": process_manifest(["python3", "job.py"]), "job.py": SCRIPT},
        name="batchy",
    )
    with embedded.http(token) as http:
        body = {
            "jobs": [
                {"project": "batchy", "payload": {"a": 2}},
                {"project": "batchy", "timeout_s": 0},
                {"project": "batchy", "payload": {"a": 3}},
            ]
        }
        response = http.post("/api/v1/jobs/batch", json=body, headers={"Idempotency-Key": "b1"})
        assert response.status_code == 200
        outcomes = response.json()["results"]
        assert [o["status"] for o in outcomes] == [201, 422, 201]
        assert outcomes[1]["error"]["details"]["fields"][0]["field"] == "timeout_s"
        again = http.post("/api/v1/jobs/batch", json=body, headers={"Idempotency-Key": "b1"}).json()["results"]
        assert [o.get("job", {}).get("id") for o in again] == [o.get("job", {}).get("id") for o in outcomes]
        assert http.post("/api/v1/jobs/batch", json={"jobs": [{}] * 201}).status_code == 422


def test_depends_on_waits_for_the_dependency_and_fails_when_it_fails(client: ComputalotClient, typed_project: str):
    first = client.submit_job(project=typed_project, payload={"sleep": 1.5})
    second = client.submit_job(project=typed_project, payload={"a": 7}, depends_on=[first["id"]])
    assert second["status"] == "planning"
    assert client.get_job(second["id"])["status"] == "planning"
    assert client.wait(second["id"], timeout_s=60)["status"] == "completed"
    assert client.get_job(first["id"])["finished_at"] <= client.get_job(second["id"])["started_at"]
    broken = client.submit_job(project=typed_project, payload={"sleep": 30})
    waiting = client.submit_job(project=typed_project, payload={}, depends_on=[broken["id"]])
    client.cancel_job(broken["id"])
    ended = client.wait(waiting["id"], timeout_s=30)
    assert ended["status"] == "failed"
    assert client.get_job(waiting["id"])["error_code"] == "dependency_failed"
    with pytest.raises(ValidationError) as caught:
        client.submit_job(project=typed_project, payload={}, depends_on=["job_not_mine"])
    assert caught.value.fields[0]["field"] == "depends_on[0]"


def test_high_priority_work_starts_before_queued_normal_work(client: ComputalotClient, typed_project: str):
    # Given the agent's 4 slots saturated by 16 one-second normal tasks
    normal = client.submit_job(project=typed_project, payload={}, fan_out={"items": [{"sleep": 1}] * 16})
    wait_for(lambda: client.get_job(normal["id"])["counts"]["running"] > 0)
    # When 2 high-priority tasks arrive
    high = client.submit_job(
        project=typed_project, payload={}, fan_out={"items": [{"sleep": 0.1}] * 2}, priority="high"
    )
    client.wait(high["id"], timeout_s=60)
    client.wait(normal["id"], timeout_s=60)
    # Then they started before most of the normal tasks that were queued ahead of them
    high_started = max(t["started_at"] for t in client.get_tasks(high["id"])["tasks"])
    later_normal = [t for t in client.get_tasks(normal["id"])["tasks"] if t["started_at"] > high_started]
    assert len(later_normal) >= 6


def test_requirements_route_to_presets_and_fail_fast_without_a_capable_agent(
    client: ComputalotClient, typed_project: str
):
    with pytest.raises(Exception) as caught:
        client.submit_job(project=typed_project, payload={}, requirements={"profile": "gpu-small"})
    assert caught.value.code == "no_capable_workers"
    assert "cpu-small" in caught.value.details["available"][0]["presets"]
    with pytest.raises(ValidationError) as too_big:
        client.submit_job(project=typed_project, payload={}, requirements={"cpu": 4096})
    assert too_big.value.fields[0]["field"] == "requirements.cpu"


def test_a_callback_is_posted_once_with_a_valid_signature(
    embedded: Platform, client: ComputalotClient, typed_project: str
):
    received: list[tuple[bytes, str]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.read(), request.headers.get("X-Computalot-Signature", "")))
        return web.Response(text="ok")

    import asyncio
    import threading

    from tests.conftest_platform import free_port

    port = free_port()
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        job = client.submit_job(project=typed_project, payload={"a": 2}, callback_url=f"http://127.0.0.1:{port}/hook")
        client.wait(job["id"], timeout_s=60)
        wait_for(lambda: received, timeout_s=20)
        body, signature = received[0]
        secret = client._http.get("/api/v1/account").json()["webhook_secret"]
        assert signature == "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert json.loads(body)["job_id"] == job["id"] and json.loads(body)["status"] == "completed"
        time.sleep(1.5)
        assert len(received) == 1
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
