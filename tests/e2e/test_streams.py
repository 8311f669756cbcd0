"""Live streams end to end on the embedded platform: SSE with a real HTTP client, resumption, watch,
the ZeroMQ subscriber, and a chatty task."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from computalot import ComputalotClient, StreamEvent, parse_sse, subscribe

from tests.conftest_platform import Platform, make_project, process_manifest
from tests.e2e.test_jobs import wait_for

SCRIPT = """import json, os, time
p = json.load(open(os.environ["COMPUTALOT_TASK_PAYLOAD"]))
for i in range(p.get("lines", 0)):
    print(f"line {i}")
for i in range(p.get("steps", 0)):
    print("COMPUTALOT_PROGRESS:" + json.dumps({"step": i + 1, "of": p["steps"]}))
    print(f"did step {i + 1}")
    time.sleep(p.get("step_s", 0.3))
json.dump({"ok": True, "i": p.get("i")}, open(os.environ["COMPUTALOT_TASK_RESULT"], "w"))
"""


@pytest.fixture
def project(client: ComputalotClient) -> str:
    return make_project(client, {"computalot.project.json": process_manifest(["python3", "run.py"]), "run.py": SCRIPT})


@pytest.fixture
def http(embedded: Platform, client: ComputalotClient) -> Iterator[httpx.Client]:
    """Raw HTTP with the same account as `client`."""
    token = client._http.headers["Authorization"].removeprefix("Bearer ")
    with embedded.http(token) as raw:
        yield raw


def read_stream(http: httpx.Client, path: str, headers: dict[str, str] | None = None) -> list[StreamEvent]:
    """Every event of an SSE response until it closes."""
    with http.stream("GET", path, headers=headers, timeout=httpx.Timeout(10, read=60)) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"] == "text/event-stream"
        return list(parse_sse(response.iter_lines()))


def logged_ids(client: ComputalotClient, job_id: str) -> list[int]:
    """The sequence of every event the database holds for the job."""
    return [e["seq"] for e in client.get_events(job_id, limit=1000)["events"]]


def test_a_job_stream_shows_the_lifecycle_with_progress_and_output_then_ends(
    client: ComputalotClient, project: str, http: httpx.Client
) -> None:
    # Given a job whose task reports progress and prints while it runs
    job = client.submit_job(project=project, payload={"steps": 4, "step_s": 0.4})

    # When its stream is read to the end
    events = read_stream(http, f"/api/v1/jobs/{job['id']}/stream")

    # Then it shows the lifecycle in order, with live progress and output, the result, then end
    kinds = [e.event for e in events]
    assert kinds[0] == "status" and kinds[-3:] == ["status", "result", "end"]
    assert {"task", "progress", "output"} <= set(kinds)
    assert events[-3].data["data"]["status"] == "completed"
    assert events[-2].data["data"]["summary"]["completed"] == 1
    assert events[-1].data == {"job_id": job["id"], "status": "completed"}
    progress = [e.data["data"]["progress"] for e in events if e.event == "progress"]
    assert progress[-1] == {"step": 4, "of": 4}
    lines = [line for e in events if e.event == "output" for line in e.data["data"]["lines"]]
    assert "did step 1" in lines
    # And the stream carried exactly the event log, each event once, with its sequence as id
    assert [e.id for e in events[:-1]] == logged_ids(client, job["id"])


def test_a_dropped_stream_resumes_with_last_event_id_without_loss_or_duplicates(
    client: ComputalotClient, project: str, http: httpx.Client
) -> None:
    # Given a job of three tasks that report progress for a couple of seconds
    job = client.submit_job(project=project, payload={"steps": 5, "step_s": 0.3}, fan_out={"items": [{}, {}, {}]})
    path = f"/api/v1/jobs/{job['id']}/stream"

    # When the connection is dropped after a few events
    first: list[StreamEvent] = []
    with http.stream("GET", path) as response:
        for event in parse_sse(response.iter_lines()):
            first.append(event)
            if len(first) == 4:
                break
    # (leaving the block closes the connection mid-stream; more events are logged while the client is away)
    wait_for(lambda: logged_ids(client, job["id"])[-1] > first[-1].id + 3)
    # And the client reconnects with the id of the last event it got
    rest = read_stream(http, path, headers={"Last-Event-ID": str(first[-1].id)})

    # Then together they hold every event of the log once, in order
    ids = [e.id for e in first + rest if e.id is not None]
    assert ids == logged_ids(client, job["id"])
    assert rest[-1].event == "end"


def test_a_finished_jobs_stream_replays_its_events_and_ends(
    client: ComputalotClient, project: str, http: httpx.Client
) -> None:
    # Given a job that already finished
    job = client.submit_job(project=project, payload={})
    client.wait(job["id"], timeout_s=60)

    # When its stream is opened
    started = time.monotonic()
    events = read_stream(http, f"/api/v1/jobs/{job['id']}/stream")

    # Then it replays the whole log at once and ends
    assert [e.id for e in events[:-1]] == logged_ids(client, job["id"])
    assert events[-1].event == "end" and events[-1].data["status"] == "completed"
    assert time.monotonic() - started < 10


def test_watch_streams_several_jobs_with_their_ids_and_ends_when_all_ended(
    client: ComputalotClient, project: str, http: httpx.Client
) -> None:
    # Given two jobs, one failing
    ok = client.submit_job(project=project, payload={"steps": 2, "step_s": 0.2})
    bad = client.submit_job(project=project, payload={}, runner_command=["python3", "-c", "raise SystemExit(2)"])

    # When both are watched
    events = read_stream(http, f"/api/v1/jobs/watch?ids={ok['id']},{bad['id']}")

    # Then every event names its job, each job's events are its log, and the end maps both to their status
    for job in (ok, bad):
        assert [e.id for e in events if e.job_id == job["id"]] == logged_ids(client, job["id"])
    assert events[-1].event == "end"
    assert events[-1].data == {"jobs": {ok["id"]: "completed", bad["id"]: "failed"}}


def test_watch_refuses_more_than_100_jobs(http: httpx.Client) -> None:
    response = http.get("/api/v1/jobs/watch", params={"ids": ",".join(f"job_{i}" for i in range(101))})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "ids"


def test_the_sdk_resumes_a_stream_cut_by_the_network_without_loss_or_duplicates(
    embedded: Platform, client: ComputalotClient, project: str
) -> None:
    # Given a proxy in front of the controller that cuts the first two connections after a few hundred bytes
    proxy = CuttingProxy(embedded.url, cut_after_bytes=600, cuts=2)
    token = client._http.headers["Authorization"].removeprefix("Bearer ")
    job = client.submit_job(project=project, payload={"steps": 6, "step_s": 0.25}, fan_out={"items": [{}, {}]})

    # When the SDK follows the job through the proxy
    with proxy, ComputalotClient(proxy.url, token) as through_proxy:
        events = list(through_proxy.stream(job["id"]))

    # Then it reconnected and still yielded every event of the log once, in order, then end
    assert proxy.connections >= 3
    assert [e.id for e in events[:-1]] == logged_ids(client, job["id"])
    assert events[-1].event == "end"


def test_a_zeromq_subscriber_receives_a_jobs_events_in_order(client: ComputalotClient, project: str) -> None:
    # Given a subscriber to the account's events on the endpoint the controller names
    info = client.stream_endpoint()
    assert info["endpoint"].startswith("tcp://127.0.0.1:")
    with subscribe(info["endpoint"], info["account_id"], timeout_s=30) as events:
        # (a SUB socket joins a moment after connecting: wait for an event of a warm-up job first)
        warmup = client.submit_job(project=project, payload={})
        while next(events)["job_id"] != warmup["id"]:
            pass
        client.wait(warmup["id"], timeout_s=60)

        # When a job runs
        job = client.submit_job(project=project, payload={"steps": 3, "step_s": 0.2})
        received = []
        for event in events:
            if event["job_id"] == job["id"]:
                received.append(event)
                if event["kind"] == "result":
                    break

    # Then the subscriber got each of the job's events, in sequence order, shaped like the event log
    assert [e["seq"] for e in received] == logged_ids(client, job["id"])
    assert set(received[0]) == {"seq", "kind", "job_id", "data", "created_at"}
    assert received[-1]["data"]["status"] == "completed"


def test_a_chatty_task_keeps_the_controller_responsive_and_its_last_line(
    embedded: Platform, client: ComputalotClient, project: str, http: httpx.Client
) -> None:
    # Given a task printing 50,000 lines as fast as it can
    job = client.submit_job(project=project, payload={"lines": 50_000})

    # When /health is asked again and again while it runs
    answered = 0
    while client.get_job(job["id"])["status"] not in ("completed", "failed"):
        assert httpx.get(f"{embedded.url}/health", timeout=5).status_code == 200
        answered += 1
    results = client.wait(job["id"], timeout_s=120)

    # Then the controller answered every probe, and the stored output ends with the very last line
    assert answered > 0 and results["status"] == "completed"
    output = client.get_output(job["id"])["tasks"][0]["output"]
    assert output.endswith("line 49999\n")
    # And the output events were capped (many lines are counted as dropped, none is larger than the cap)
    outputs = [e for e in read_stream(http, f"/api/v1/jobs/{job['id']}/stream") if e.event == "output"]
    assert all(len(e.data["data"]["lines"]) <= 200 for e in outputs)


class CuttingProxy:
    """A loopback TCP proxy that closes its first `cuts` connections after `cut_after_bytes` from the server."""

    def __init__(self, target_url: str, cut_after_bytes: int, cuts: int) -> None:
        host, port = target_url.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self.cut_after_bytes, self.cuts_left = cut_after_bytes, cuts
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> CuttingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                downstream, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            limit = self.cut_after_bytes if self.cuts_left > 0 else None
            self.cuts_left -= 1
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pipe, args=(downstream, upstream, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, downstream, limit), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while data := source.recv(65536):
                if limit is not None and sent + len(data) >= limit:
                    sink.sendall(data[: max(0, limit - sent)])
                    break
                sink.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
