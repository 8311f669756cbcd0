"""Nothing accepted is lost when the embedded platform is killed (-9) mid-job and started again."""

from __future__ import annotations

import time
from pathlib import Path

from computalot import ComputalotClient

from tests.conftest_platform import _embedded, make_project, process_manifest
from tests.e2e.conftest import SCRIPT


def test_a_killed_embedded_platform_finishes_its_jobs_after_a_restart(tmp_path: Path):
    # Given an embedded platform running a job of 8 one-second tasks on 4 slots
    platform_gen = _embedded(tmp_path)
    platform = next(platform_gen)
    token = platform.new_token()
    client = ComputalotClient(platform.url, token)
    name = make_project(client, {"computalot.project.json": process_manifest(["python3", "run.py"]), "run.py": SCRIPT})
    job = client.submit_job(project=name, payload={}, fan_out={"items": [{"sleep": 1, "i": i} for i in range(8)]})
    deadline = time.monotonic() + 30
    while client.get_job(job["id"])["counts"]["running"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # When the whole platform is killed without warning
    platform.processes[0].kill()
    platform_gen.close()
    # And started again on the same data dir and port
    port = int(platform.url.rsplit(":", 1)[1])
    restarted_gen = _embedded(tmp_path, port=port)
    restarted = next(restarted_gen)
    try:
        # Then the job completes with every task's result, none lost or duplicated
        results = ComputalotClient(restarted.url, token).wait(job["id"], timeout_s=90)
        assert results["status"] == "completed"
        assert [r["echo"]["i"] for r in results["aggregate_result"]] == list(range(8))
    finally:
        restarted_gen.close()
