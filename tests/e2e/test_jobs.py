"""Jobs end to end on the embedded platform: fan-out, results, failures, retries, timeouts, cancel."""

from __future__ import annotations

import pytest
from computalot import ComputalotClient, Conflict, ValidationError

from tests.processes import job_processes, pid_alive, wait_for


def test_fan_out_by_list_runs_one_task_per_element_and_collects_in_order(client: ComputalotClient, project: str):
    # Given a payload with a list and a fan-out over it
    job = client.submit_job(project=project, payload={"models": ["a", "b", "c"], "k": 1}, fan_out={"by": "models"})
    # When the job finishes
    results = client.wait(job["id"], timeout_s=60)
    # Then each task saw one element and the aggregate is in element order
    assert results["status"] == "completed"
    assert [r["echo"]["models"] for r in results["aggregate_result"]] == ["a", "b", "c"]
    assert [r["count"] for r in results["aggregate_result"]] == [3, 3, 3]
    assert results["completeness"] == 1.0
    assert results["summary"]["total"] == 3 and results["summary"]["completed"] == 3
    assert all(t["result_quality"] == 1.0 for t in results["tasks"])


def test_fan_out_items_merge_each_item_into_the_payload(client: ComputalotClient, project: str):
    job = client.submit_job(project=project, payload={"base": 1}, fan_out={"items": [{"x": 1}, {"x": 2, "base": 9}]})
    results = client.wait(job["id"], timeout_s=60)
    assert [r["echo"] for r in results["aggregate_result"]] == [{"base": 1, "x": 1}, {"base": 9, "x": 2}]


def test_chunks_with_batch_size_cover_the_range_once_and_aggregate_as_if_unbatched(
    client: ComputalotClient, project: str
):
    # Given 10 seeds cut in 5 chunks, 2 chunks per task
    fan_out = {"chunks": 5, "range_field": "seeds", "total": 10, "batch_size": 2}
    job = client.submit_job(project=project, payload={}, fan_out=fan_out)
    assert job["total_tasks"] == 3
    results = client.wait(job["id"], timeout_s=60)
    # Then batched tasks got their chunks under "batch" and returned one object, not a list of 2:
    # the elements of such a task are null and the task carries a warning
    batches = [t["result"]["echo"]["batch"] for t in results["tasks"]]
    chunks = [c for batch in batches for c in batch]
    assert [(c["chunk_start"], c["seeds"], c["chunk_index"]) for c in chunks] == [
        (0, 2, 0),
        (2, 2, 1),
        (4, 2, 2),
        (6, 2, 3),
        (8, 2, 4),
    ]
    assert results["aggregate_result"] == [None] * 5


def test_a_failing_command_fails_the_job_with_an_error_and_a_recommended_action(client: ComputalotClient, project: str):
    job = client.submit_job(project=project, payload={"exit": 3, "stderr": "boom on stderr"})
    results = client.wait(job["id"], timeout_s=60)
    assert results["status"] == "failed"
    detail = client.get_job(job["id"])
    assert detail["error_code"] == "exit_code"
    assert "exited with code 3" in detail["error"]
    assert detail["recommended_action"]
    tasks = client.get_tasks(job["id"])["tasks"]
    assert tasks[0]["exit_code"] == 3 and "boom on stderr" in tasks[0]["output"]
    output = client.get_output(job["id"])
    assert "boom on stderr" in output["tasks"][0]["output"]


def test_some_failing_tasks_make_the_job_partial(client: ComputalotClient, project: str):
    job = client.submit_job(project=project, payload={}, fan_out={"items": [{}, {"exit": 1}, {"no_result": True}]})
    results = client.wait(job["id"], timeout_s=60)
    assert results["status"] == "partial"
    assert [t["status"] for t in results["tasks"]] == ["completed", "failed", "failed"]
    assert results["aggregate_result"][1:] == [None, None]
    assert "bad_result" in {t["error_code"] for t in client.get_tasks(job["id"])["tasks"] if t["error_code"]}
    assert results["completeness"] == pytest.approx(1 / 3, abs=1e-6)


def test_a_failed_attempt_is_retried_up_to_max_retries(client: ComputalotClient, project: str):
    # Given a task that fails on its first attempt only
    retried = client.submit_job(project=project, payload={"fail_until_attempt": 1}, max_retries=1)
    not_retried = client.submit_job(project=project, payload={"fail_until_attempt": 1}, max_retries=0)
    # Then with one retry it succeeds on attempt 2, without it the job fails
    assert client.wait(retried["id"], timeout_s=60)["aggregate_result"][0]["attempt"] == 2
    assert client.wait(not_retried["id"], timeout_s=60)["status"] == "failed"
    kinds = [(e["kind"], e["data"].get("status")) for e in client.get_events(retried["id"])["events"]]
    assert ("task", "retrying") in kinds


def test_a_timeout_kills_the_whole_process_group(client: ComputalotClient, project: str):
    # Given a task that starts a child and sleeps past its 2 s timeout (its pidfile is in its own sandbox)
    job = client.submit_job(project=project, payload={"pidfile": "pids", "sleep": 300}, timeout_s=2)
    # When the runner and its child are seen running on the host
    runner_and_child = wait_for(lambda: len(job_processes(job["id"])) >= 2 and job_processes(job["id"]))
    # Then the job fails with timeout, and both are gone, with every other process of the task
    results = client.wait(job["id"], timeout_s=60)
    assert results["status"] == "failed"
    assert client.get_job(job["id"])["error_code"] == "timeout"
    wait_for(lambda: not any(map(pid_alive, runner_and_child)) and not job_processes(job["id"]), timeout_s=10)


def test_cancel_stops_running_tasks_and_queued_ones_never_start(client: ComputalotClient, project: str):
    # Given a job whose first task is running, with a child (its pidfile is in its own sandbox)
    items = [{"pidfile": "pids", "sleep": 300}] + [{"sleep": 300}] * 30
    job = client.submit_job(project=project, payload={}, fan_out={"items": items})
    running = wait_for(lambda: len(job_processes(job["id"])) >= 2 and job_processes(job["id"]))
    # When it is cancelled
    cancelled = client.cancel_job(job["id"])
    # Then the job is cancelled at once, its processes die within seconds, and nothing else runs
    assert cancelled["status"] == "cancelled"
    wait_for(lambda: not any(map(pid_alive, running)) and not job_processes(job["id"]), timeout_s=15)
    results = client.get_results(job["id"])
    assert results["summary"]["cancelled"] == 31
    assert client.cancel_job(job["id"])["status"] == "cancelled"  # idempotent


def test_cancelling_a_finished_job_is_a_conflict(client: ComputalotClient, project: str):
    job = client.submit_job(project=project, payload={})
    client.wait(job["id"], timeout_s=60)
    with pytest.raises(Conflict):
        client.cancel_job(job["id"])


def test_output_and_progress_are_visible_while_the_task_runs(client: ComputalotClient, project: str):
    job = client.submit_job(
        project=project, payload={"print": 50, "progress": {"epoch": 5, "loss": 0.25}, "sleep": 300}
    )

    def live():
        task = client.get_tasks(job["id"])["tasks"][0]
        feedback = task["live_feedback"]
        return task if "line 49" in feedback["output_tail"] and feedback["latest_progress"] else None

    task = wait_for(live, timeout_s=30)
    assert task["status"] == "running"
    assert task["latest_progress"] == {"epoch": 5, "loss": 0.25}
    kinds = [e["kind"] for e in client.get_events(job["id"])["events"]]
    assert "progress" in kinds
    client.cancel_job(job["id"])


def test_checkpoint_dir_survives_a_retry(client: ComputalotClient, project: str):
    job = client.submit_job(
        project=project,
        payload={"checkpoint": True, "fail_until_attempt": 1},
        max_retries=1,
        checkpointing={"enabled": True},
    )
    results = client.wait(job["id"], timeout_s=60)
    assert results["aggregate_result"][0]["attempt"] == 2
    assert results["aggregate_result"][0]["resumed_from_checkpoint"] is True


def test_submitted_fields_are_echoed_and_task_env_is_set(client: ComputalotClient, project: str):
    job = client.submit_job(
        project=project, payload={"v": 1}, tags=["t1"], meta={"owner": "me"}, timeout_s=60, priority="high"
    )
    assert job["status"] in ("queued", "running")
    assert (job["tags"], job["meta"], job["timeout_s"], job["priority"]) == (["t1"], {"owner": "me"}, 60, "high")
    results = client.wait(job["id"], timeout_s=60)
    result = results["aggregate_result"][0]
    assert (result["job_id"], result["index"], result["count"], result["attempt"]) == (job["id"], 0, 1, 1)
    assert result["task_id"] == results["tasks"][0]["task_id"]
    assert results["meta"] == {"owner": "me"}


def test_an_idempotency_key_returns_the_first_job(client: ComputalotClient, project: str):
    first = client.submit_job(project=project, payload={"n": 1}, idempotency_key="key-1")
    again = client.submit_job(project=project, payload={"n": 1}, idempotency_key="key-1")
    assert again["id"] == first["id"]
    with pytest.raises(Conflict):
        client.submit_job(project=project, payload={"n": 2}, idempotency_key="key-1")


def test_listing_filters_by_status_project_and_tag_and_pages_newest_first(client: ComputalotClient, project: str):
    ids = [client.submit_job(project=project, payload={}, tags=[f"n{i}", "all"])["id"] for i in range(5)]
    for job_id in ids:
        client.wait(job_id, timeout_s=60)
    first = client.list_jobs(limit=2, tag="all")
    assert [j["id"] for j in first["jobs"]] == ids[::-1][:2]
    second = client.list_jobs(limit=2, tag="all", before=first["next_before"])
    assert [j["id"] for j in second["jobs"]] == ids[::-1][2:4]
    assert [j["id"] for j in client.list_jobs(tag="n3")["jobs"]] == [ids[3]]
    assert len(client.list_jobs(project=project, status="completed")["jobs"]) == 5
    assert client.list_jobs(status="failed")["jobs"] == []
    with pytest.raises(ValidationError):
        client.list_jobs(status="bogus")


def test_the_last_progress_of_a_short_task_is_kept(client: ComputalotClient, project: str):
    # Given a task that reports progress and exits at once (no live flush happens while it runs)
    job = client.submit_job(project=project, payload={"progress": {"epoch": 9, "done": True}})
    client.wait(job["id"], timeout_s=60)
    # Then its final progress is on the task and in the event log, delivered with the result
    assert client.get_tasks(job["id"])["tasks"][0]["latest_progress"] == {"epoch": 9, "done": True}
    progress = [e["data"]["progress"] for e in client.get_events(job["id"])["events"] if e["kind"] == "progress"]
    assert progress[-1] == {"epoch": 9, "done": True}
