"""The end-to-end path with the controller and agents as separate processes, over each real broker."""

from __future__ import annotations

import time

import pytest
from computalot import ComputalotClient

from tests.conftest_platform import make_project, process_manifest, wait_ready
from tests.e2e.conftest import SCRIPT
from tests.integration.conftest import Distributed
from tests.processes import job_processes, pid_alive, wait_for

pytestmark = pytest.mark.services


def _project(client: ComputalotClient) -> str:
    return make_project(client, {"computalot.project.json": process_manifest(["python3", "run.py"]), "run.py": SCRIPT})


def test_a_fan_out_job_completes_over_the_broker(distributed: Distributed):
    # Given a member account and a pushed project
    client = distributed.client()
    name = _project(client)
    # When a fan-out job runs on the separate agent process
    job = client.submit_job(project=name, payload={"models": ["a", "b", "c", "d"]}, fan_out={"by": "models"})
    results = client.wait(job["id"], timeout_s=90)
    # Then every element's result is collected in order
    assert results["status"] == "completed"
    assert [r["echo"]["models"] for r in results["aggregate_result"]] == ["a", "b", "c", "d"]
    # And a failing task with a retry succeeds on its second attempt
    retried = client.wait(
        client.submit_job(project=name, payload={"fail_until_attempt": 1}, max_retries=1)["id"], timeout_s=90
    )
    assert retried["aggregate_result"][0]["attempt"] == 2


def test_cancel_reaches_a_task_running_on_another_process(distributed: Distributed):
    # Given a task running on the agent process, with a child (its pidfile is in its own sandbox)
    client = distributed.client()
    job = client.submit_job(project=_project(client), payload={"pidfile": "pids", "sleep": 300})
    running = wait_for(lambda: len(job_processes(job["id"])) >= 2 and job_processes(job["id"]), timeout_s=60)
    # When its job is cancelled through the controller
    assert client.cancel_job(job["id"])["status"] == "cancelled"
    # Then every process of the task dies on the agent's host
    wait_for(lambda: not any(map(pid_alive, running)) and not job_processes(job["id"]), timeout_s=20)


def test_a_task_of_a_killed_agent_is_redelivered_and_the_job_completes(distributed: Distributed):
    # Given a job whose tasks are running on the only agent
    client = distributed.client()
    name = _project(client)
    job = client.submit_job(project=name, payload={}, fan_out={"items": [{"sleep": 2, "i": i} for i in range(4)]})
    deadline = time.monotonic() + 60
    while client.get_job(job["id"])["counts"]["running"] == 0:
        assert time.monotonic() < deadline, "no task started"
        time.sleep(0.05)
    # When that agent is killed with SIGKILL mid-task and another agent joins
    distributed.agents[0].kill()
    distributed.start_agent()
    # Then the job completes with every task's result exactly once
    results = client.wait(job["id"], timeout_s=120)
    assert results["status"] == "completed"
    assert [r["echo"]["i"] for r in results["aggregate_result"]] == [0, 1, 2, 3]
    # And the redelivered attempts did not spend the job's retries (max_retries is 0)
    assert all(t["status"] == "completed" for t in results["tasks"])


def test_a_distributed_agent_runs_jobs_with_an_agent_key_that_reaches_nothing_else(distributed: Distributed):
    # Given the agent process, started with an agent key from a file, and a member's completed job
    client = distributed.client()
    job = client.submit_job(project=_project(client), payload={"models": ["a"]}, fan_out={"by": "models"})
    results = client.wait(job["id"], timeout_s=90)
    assert results["status"] == "completed"
    finished = results["tasks"][0]["task_id"]
    agent_key = (distributed.workdir / "agent0.key").read_text().strip()
    # When that key calls the routes a leaked agent environment would try, and the admin token an agent route
    with distributed.http(agent_key) as agent, distributed.http(distributed.admin_token) as admin:
        answers = [
            agent.get("/api/v1/jobs").status_code,
            agent.get(f"/api/v1/jobs/{job['id']}").status_code,
            agent.get("/api/v1/admin/accounts").status_code,
            agent.post("/api/v1/jobs", json={"project": "x"}).status_code,
            admin.get("/api/v1/agent/config").status_code,
        ]
        upload = agent.post(f"/api/v1/agent/artifacts?job_id={job['id']}&task_id={finished}", content=b"forged")
    # Then every one is forbidden, and an output for an attempt the agent no longer holds is refused
    assert answers == [403] * 5
    assert upload.status_code == 403


__all__ = ["wait_ready"]
