"""Spine benchmarks (not tests): end-to-end throughput of trivial tasks, and planning 100,000 tasks.

    python bench/spine.py [--tasks 2000] [--plan-tasks 100000]

Throughput is reported as a ratio against a bare baseline measured in the same run: the same
no-op runner command spawned by a 2-worker pool with the same payload/result files, no platform.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from computalot import ComputalotClient  # noqa: E402

from tests.conftest_platform import _embedded, make_project, process_manifest  # noqa: E402

NOOP = """import json, os
payload = json.load(open(os.environ["COMPUTALOT_TASK_PAYLOAD"]))
json.dump({"i": payload["i"]}, open(os.environ["COMPUTALOT_TASK_RESULT"], "w"))
"""


def baseline(tasks: int, workdir: Path) -> float:
    """Seconds to run the runner `tasks` times with a 2-worker pool and nothing else."""
    import subprocess

    script = workdir / "noop.py"
    script.write_text(NOOP)

    def one(i: int) -> None:
        payload, result = workdir / f"p{i}.json", workdir / f"r{i}.json"
        payload.write_text(json.dumps({"i": i}))
        env = {**os.environ, "COMPUTALOT_TASK_PAYLOAD": str(payload), "COMPUTALOT_TASK_RESULT": str(result)}
        subprocess.run(["python3", str(script)], env=env, check=True, cwd=workdir)
        json.loads(result.read_text())

    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, range(tasks)))
    return time.perf_counter() - started


def platform(tasks: int, workdir: Path) -> tuple[float, float]:
    """(seconds from submit to results, seconds the submit call took) on the embedded platform with 2 slots."""
    generator = _embedded(workdir, slots=2)
    embedded = next(generator)
    try:
        client = ComputalotClient(embedded.url, embedded.new_token())
        name = make_project(
            client, {"computalot.project.json": process_manifest(["python3", "noop.py"]), "noop.py": NOOP}
        )
        started = time.perf_counter()
        job = client.submit_job(project=name, payload={}, fan_out={"items": [{"i": i} for i in range(tasks)]})
        submitted = time.perf_counter() - started
        results = client.wait(job["id"], timeout_s=3600, poll_s=0.2)
        elapsed = time.perf_counter() - started
        assert results["status"] == "completed", results["status"]
        assert [r["i"] for r in results["aggregate_result"]] == list(range(tasks))
        return elapsed, submitted
    finally:
        generator.close()


def planning(tasks: int, workdir: Path) -> dict[str, float]:
    """Seconds to validate+plan+store a `tasks`-wide fan-out in SQLite, and to enqueue every attempt."""
    from broker.connection import connect
    from controller.accounts.auth import create_account
    from controller.jobs import records as jobs
    from controller.jobs.dispatcher import build_message, job_queue, mark_enqueued, pending_tasks, send_batch
    from controller.jobs.kinds import plan_job
    from controller.jobs.spec import parse_job_spec
    from controller.schema import open_database

    db = open_database(f"sqlite:///{workdir / 'plan.db'}")
    with db.atomic():
        account = create_account("bench")
    body = {"project": "p", "payload": {"seeds": list(range(tasks))}, "fan_out": {"by": "seeds"}}
    started = time.perf_counter()
    spec = parse_job_spec(body)
    plan = plan_job(spec)
    with db.atomic():
        job = jobs.create_job(
            account,
            spec,
            plan,
            project=None,
            revision_hash="sha256:x",
            command=["true"],
            runtime="process",
            workdir=".",
            profile="cpu-small",
            idempotency_key=None,
        )
    stored = time.perf_counter() - started
    broker = connect("memory://")
    started = time.perf_counter()
    sent = 0
    while pending := pending_tasks(1000):
        batch = [(build_message(t, j, plan), job_queue(j), j.priority) for t, j in pending]
        send_batch(broker, batch)
        with db.atomic():
            mark_enqueued([(m.task_id, m.attempt) for m, _, _ in batch], {m.job_id for m, _, _ in batch})
        sent += len(batch)
    enqueued = time.perf_counter() - started
    assert sent == tasks and job.task_count == tasks
    return {"plan_and_store_s": stored, "enqueue_s": enqueued}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--plan-tasks", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for name in ("plan", "base", "platform"):
            (tmp_path / name).mkdir()
        plan = planning(args.plan_tasks, tmp_path / "plan")
        print(
            f"planning {args.plan_tasks} tasks: validate+plan+store {plan['plan_and_store_s']:.2f} s, "
            f"build+enqueue+mark {plan['enqueue_s']:.2f} s",
            flush=True,
        )
        base_s = baseline(args.tasks, tmp_path / "base")
        print(f"trivial tasks: {args.tasks}")
        print(f"  bare 2-process pool : {base_s:7.2f} s  ({args.tasks / base_s:7.1f} tasks/s)", flush=True)
        platform_s, submit_s = platform(args.tasks, tmp_path / "platform")
    rate = args.tasks / platform_s
    print(f"  embedded platform, 2 slots: {platform_s:7.2f} s  ({rate:7.1f} tasks/s, submit {submit_s:.2f} s)")
    print(f"  platform / baseline throughput: {base_s / platform_s:.2f}")


if __name__ == "__main__":
    main()
