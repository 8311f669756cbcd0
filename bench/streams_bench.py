"""Live stream benchmarks (not tests): progress-line-to-SSE latency, and concurrent SSE clients served.

    python bench/streams_bench.py [--steps 100] [--step-s 0.1] [--max-clients 800] [--events 4]

Everything runs on loopback against an embedded platform started for the run, and stops by itself:

1. Latency: one task prints `COMPUTALOT_PROGRESS:{"t": <time>}` every `--step-s`; one SSE client reports,
   for each `progress` event it receives, now − t (the same clock: one host). The controller keeps the
   latest progress per task and writes it every 0.5 s, so about two lines a second become events; the
   figure is the delay of those.
2. Concurrency: levels of 50, 100, 200, … up to `--max-clients` SSE clients open on one running job; a
   level is served when every client connected and received `--events` progress events within 20 s. The
   ramp stops at the first level that is not served, or at the maximum.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from computalot import ComputalotClient  # noqa: E402
from computalot.streams import SSEParser  # noqa: E402

from tests.conftest_platform import _embedded, make_project, process_manifest  # noqa: E402

TICKER = """import json, os, time
p = json.load(open(os.environ["COMPUTALOT_TASK_PAYLOAD"]))
for i in range(p["steps"]):
    print("COMPUTALOT_PROGRESS:" + json.dumps({"t": time.time(), "i": i}), flush=True)
    time.sleep(p["step_s"])
json.dump({"ok": True}, open(os.environ["COMPUTALOT_TASK_RESULT"], "w"))
"""

#: Seconds a concurrency level gets to connect every client and deliver the events to each.
LEVEL_DEADLINE_S = 20.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def follow(session: aiohttp.ClientSession, url: str, after: int, wanted: int, latencies: list[float]) -> int:
    """Read progress events of one SSE stream until `wanted` arrived; returns the last event id."""
    parser, got, last = SSEParser(), 0, after
    async with session.get(url, headers={"Last-Event-ID": str(after)}) as response:
        response.raise_for_status()
        async for raw in response.content:
            event = parser.feed(raw.decode().rstrip("\r\n"))
            if event is None:
                continue
            last = event.id or last
            if event.event == "progress":
                latencies.append(time.time() - event.data["data"]["progress"]["t"])
                got += 1
                if got >= wanted:
                    return last
            if event.event == "end":
                raise RuntimeError("the job ended before the benchmark did; raise --steps")
    raise RuntimeError("the stream closed early")


async def measure(url: str, token: str, job_id: str, args: argparse.Namespace) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    stream_url = f"{url}/api/v1/jobs/{job_id}/stream"
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
    async with aiohttp.ClientSession(headers=headers, connector=connector, timeout=timeout) as session:
        latencies: list[float] = []
        last = await follow(session, stream_url, 0, args.latency_events, latencies)
        report: dict[str, Any] = {
            "latency_events": len(latencies),
            "latency_p50_ms": 1000 * statistics.median(latencies),
            "latency_p99_ms": 1000 * percentile(latencies, 0.99),
            "levels": [],
        }
        level = 50
        while level <= args.max_clients:
            level_latencies: list[float] = []
            started = time.perf_counter()
            clients = [follow(session, stream_url, last, args.events, level_latencies) for _ in range(level)]
            try:
                ends = await asyncio.wait_for(asyncio.gather(*clients), LEVEL_DEADLINE_S)
                served = True
                last = max(ends)
            except (TimeoutError, aiohttp.ClientError, OSError, RuntimeError) as exc:
                served = False
                print(f"  {level} clients: not served ({type(exc).__name__}: {exc})", file=sys.stderr)
            report["levels"].append(
                {
                    "clients": level,
                    "served": served,
                    "seconds": round(time.perf_counter() - started, 2),
                    "events": len(level_latencies),
                    "p50_ms": round(1000 * statistics.median(level_latencies), 1) if level_latencies else None,
                    "p99_ms": round(1000 * percentile(level_latencies, 0.99), 1) if level_latencies else None,
                }
            )
            if not served:
                break
            level *= 2
        return report


def raise_file_limit(wanted: int) -> int:
    """Raise this process's (and its children's) open-file limit toward `wanted`; returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = max(soft, min(hard, wanted))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1200, help="progress lines the task prints (bounds the run)")
    parser.add_argument("--step-s", type=float, default=0.1)
    parser.add_argument("--latency-events", type=int, default=40)
    parser.add_argument("--max-clients", type=int, default=800)
    parser.add_argument("--events", type=int, default=4, help="progress events each client must receive")
    args = parser.parse_args()
    limit = raise_file_limit(4 * args.max_clients + 1024)
    args.max_clients = min(args.max_clients, (limit - 512) // 2)
    with tempfile.TemporaryDirectory() as tmp:
        generator = _embedded(Path(tmp), slots=1)
        embedded = next(generator)
        try:
            token = embedded.new_token()
            client = ComputalotClient(embedded.url, token)
            name = make_project(
                client, {"computalot.project.json": process_manifest(["python3", "t.py"]), "t.py": TICKER}
            )
            job = client.submit_job(project=name, payload={"steps": args.steps, "step_s": args.step_s})
            try:
                report = asyncio.run(measure(embedded.url, token, job["id"], args))
            finally:
                client.cancel_job(job["id"])
        finally:
            generator.close()
    print(json.dumps(report, indent=2), file=sys.stderr)
    print(
        f"progress line -> SSE client: p50 {report['latency_p50_ms']:.0f} ms, p99 {report['latency_p99_ms']:.0f} ms "
        f"({report['latency_events']} events, a line every {args.step_s} s)"
    )
    served = [lv["clients"] for lv in report["levels"] if lv["served"]]
    print(f"concurrent SSE clients served (each got {args.events} progress events within {LEVEL_DEADLINE_S:.0f} s):")
    for lv in report["levels"]:
        print(
            f"  {lv['clients']:5d}: {'served' if lv['served'] else 'NOT served'} in {lv['seconds']} s, "
            f"delivery p50 {lv['p50_ms']} ms, p99 {lv['p99_ms']} ms"
        )
    print(f"largest level served: {max(served) if served else 0} (cap {args.max_clients})")


if __name__ == "__main__":
    main()
