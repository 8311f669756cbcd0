"""The warm pool: workers are reused, killed on timeout and cancel, replaced after crashes and growth."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from agent.pool import PoolLimits, RecipePool, RecipeRequest, RecipeRun


@pytest.fixture
def pool():
    pool = RecipePool({"sample": "tests.agent.sample_recipe"}, PoolLimits(max_rss_mb=400, max_tasks=1000))
    yield pool
    pool.close()


def run(pool: RecipePool, tmp_path: Path, payload: dict, timeout_s: float = 30, **callbacks) -> tuple:
    outputs, progress = [], []
    recipe_run = RecipeRun(
        pool,
        "sample",
        RecipeRequest(payload=payload, timeout_s=timeout_s, output_dir=tmp_path / "out"),
        on_output=lambda stream, lines: outputs.extend((stream, line) for line in lines),
        on_progress=progress.append,
        on_publish=callbacks.get("on_publish", lambda path, name: "art_x"),
    )
    return recipe_run, recipe_run.execute(), outputs, progress


def test_consecutive_tasks_reuse_one_warm_worker(pool: RecipePool, tmp_path: Path):
    _, first, _, _ = run(pool, tmp_path, {})
    _, second, _, _ = run(pool, tmp_path, {})
    assert first.status == second.status == "completed"
    assert first.result["pid"] == second.result["pid"]
    assert pool.spawned == 1
    assert 0 < second.result["left_s"] <= 30


def test_progress_and_printed_lines_stream_back(pool: RecipePool, tmp_path: Path):
    _, outcome, outputs, progress = run(pool, tmp_path, {"progress": 3, "print": 2})
    assert progress == [{"iteration": 0}, {"iteration": 1}, {"iteration": 2}]
    assert outputs == [("stdout", "line 0"), ("stdout", "line 1")]
    assert "line 1" in outcome.output_tail


def test_a_timeout_kills_the_worker_and_the_next_task_gets_a_new_one(pool: RecipePool, tmp_path: Path):
    _, first, _, _ = run(pool, tmp_path, {})
    _, late, _, _ = run(pool, tmp_path, {"sleep": 30}, timeout_s=1)
    assert (late.status, late.error_code) == ("failed", "timeout")
    _, after, _, _ = run(pool, tmp_path, {})
    assert after.status == "completed" and after.result["pid"] != first.result["pid"]


def test_cancel_kills_the_running_task(pool: RecipePool, tmp_path: Path):
    recipe_run = RecipeRun(
        pool,
        "sample",
        RecipeRequest({"sleep": 30}, 60, tmp_path / "o"),
        on_output=lambda *a: None,
        on_progress=lambda p: None,
        on_publish=lambda *a: "",
    )
    threading.Timer(0.5, recipe_run.cancel).start()
    started = time.monotonic()
    outcome = recipe_run.execute()
    assert outcome.status == "cancelled" and time.monotonic() - started < 10


def test_a_recipe_error_fails_the_task_but_keeps_the_worker(pool: RecipePool, tmp_path: Path):
    _, first, _, _ = run(pool, tmp_path, {})
    _, failed, _, _ = run(pool, tmp_path, {"fail": True})
    _, buggy, _, _ = run(pool, tmp_path, {"bug": True})
    assert (failed.status, failed.error_code, failed.error) == ("failed", "recipe_error", "asked to fail")
    assert (buggy.error_code, "ZeroDivisionError" in buggy.error) == ("recipe_crashed", True)
    assert "Traceback" in buggy.output_tail
    _, after, _, _ = run(pool, tmp_path, {})
    assert after.result["pid"] == first.result["pid"]


def test_a_crashed_worker_is_replaced(pool: RecipePool, tmp_path: Path):
    _, first, _, _ = run(pool, tmp_path, {})
    _, crashed, _, _ = run(pool, tmp_path, {"exit": True})
    assert (crashed.status, crashed.error_code) == ("failed", "recipe_crashed")
    _, after, _, _ = run(pool, tmp_path, {})
    assert after.status == "completed" and after.result["pid"] != first.result["pid"]


def test_a_worker_that_grew_too_large_is_recycled(pool: RecipePool, tmp_path: Path):
    _, grown, _, _ = run(pool, tmp_path, {"grow_mb": 500})
    _, after, _, _ = run(pool, tmp_path, {})
    assert grown.status == after.status == "completed"
    assert after.result["pid"] != grown.result["pid"]


def test_published_artifacts_go_through_the_agent(pool: RecipePool, tmp_path: Path):
    seen = []
    _, outcome, _, _ = run(
        pool,
        tmp_path,
        {"publish": True},
        on_publish=lambda path, name: seen.append((path.read_text(), name)) or "art_123",
    )
    assert outcome.result == {"artifact": "art_123"}
    assert seen == [("published", "out.txt")]
