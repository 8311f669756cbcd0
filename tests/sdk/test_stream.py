"""SSE parsing, resumption after a dropped connection, `subscribe` without its extra, and `computalot watch`,
against a loopback server that scripts an event stream."""

from __future__ import annotations

import asyncio
import builtins
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from click.testing import CliRunner
from computalot import ComputalotClient, NotFound, StreamEvent, parse_sse, subscribe
from computalot.cli import cli
from computalot.errors import ConnectionFailed

JOB = "job_0123456789abcdef0123"


def event(seq: int, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"seq": seq, "kind": kind, "job_id": JOB, "data": data, "created_at": "2025-01-01T00:00:00Z"}


#: The log of a two-task job, as the controller would stream it.
LOG = [
    event(1, "status", {"status": "queued", "task_count": 2}),
    event(2, "status", {"status": "running"}),
    event(3, "task", {"task_id": f"tsk_{JOB}_0", "status": "running"}),
    event(4, "progress", {"task_id": f"tsk_{JOB}_0", "progress": {"step": 1, "loss": 0.5}}),
    event(5, "output", {"task_id": f"tsk_{JOB}_0", "lines": ["hello", "[bold]not markup[/bold]"], "dropped": 3}),
    event(6, "task", {"task_id": f"tsk_{JOB}_0", "status": "completed"}),
    event(7, "task", {"task_id": f"tsk_{JOB}_1", "status": "failed"}),
    event(8, "status", {"status": "partial"}),
    event(9, "result", {"job_id": JOB, "status": "partial", "summary": {"total": 2, "completed": 1}}),
]


def sse(e: dict[str, Any]) -> bytes:
    return f"id: {e['seq']}\nevent: {e['kind']}\ndata: {json.dumps(e)}\n\n".encode()


class ScriptedStreams:
    """Serves LOG after Last-Event-ID; the first `drops` connections are cut after `drop_after` events."""

    def __init__(self) -> None:
        self.drops, self.drop_after = 0, 3
        self.status = 200
        self.last_event_ids: list[str | None] = []
        self.loop = asyncio.new_event_loop()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def stream(self, request: web.Request) -> web.StreamResponse:
        self.last_event_ids.append(request.headers.get("Last-Event-ID"))
        if self.status != 200:
            error = {"code": "not_found", "message": "job 'x' not found", "recommended_action": "", "details": {}}
            return web.json_response({"error": error}, status=self.status)
        after = int(request.headers.get("Last-Event-ID") or 0)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"retry: 10\n\n: heartbeat\n\n")
        for sent, e in enumerate(e for e in LOG if e["seq"] > after):
            if self.drops and sent == self.drop_after:
                self.drops -= 1
                await response.write(b'id: 99\nevent: progress\ndata: {"cut": ')  # half an event, then gone
                request.transport.close()
                return response
            await response.write(sse(e))
        await response.write(b'event: end\ndata: {"job_id": "%s", "status": "partial"}\n\n' % JOB.encode())
        return response

    async def job(self, request: web.Request) -> web.Response:
        return web.json_response({"id": JOB, "status": "running", "total_tasks": 2})

    async def results(self, request: web.Request) -> web.Response:
        summary = {"total": 2, "completed": 1, "failed": 1}
        return web.json_response({"job_id": JOB, "status": "partial", "completeness": 0.5, "summary": summary})

    def start(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._serve(sock), self.loop).result(timeout=10)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def _serve(self, sock: socket.socket) -> None:
        app = web.Application()
        app.router.add_get("/api/v1/jobs/{job_id}/stream", self.stream)
        app.router.add_get("/api/v1/jobs/watch", self.stream)
        app.router.add_get("/api/v1/jobs/{job_id}", self.job)
        app.router.add_get("/api/v1/results/{job_id}", self.results)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.SockSite(self.runner, sock).start()

    def stop(self) -> None:
        assert self.runner is not None
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def streams() -> Iterator[ScriptedStreams]:
    server = ScriptedStreams()
    server.start()
    yield server
    server.stop()


def test_the_parser_reads_ids_kinds_json_data_and_skips_comments() -> None:
    lines = [": hi", "retry: 5", "id: 7", "event: task", 'data: {"a":', "data: 1}", "", "", "data: plain", ""]
    events = list(parse_sse(lines))
    assert events == [StreamEvent("task", {"a": 1}, 7), StreamEvent("message", "plain", None)]


def test_a_stream_is_read_to_its_end_event(streams: ScriptedStreams) -> None:
    with ComputalotClient(streams.url, "flk_x") as client:
        events = list(client.stream(JOB))
    assert [e.id for e in events] == [e["seq"] for e in LOG] + [None]
    assert events[-1].event == "end" and events[-1].data["status"] == "partial"
    assert all(e.job_id == JOB for e in events)


def test_a_dropped_connection_resumes_after_the_last_event_without_loss_or_duplicates(
    streams: ScriptedStreams,
) -> None:
    # Given a server that cuts the first two connections after three events (mid-event)
    streams.drops = 2

    # When the SDK reads the stream
    with ComputalotClient(streams.url, "flk_x") as client:
        events = list(client.stream(JOB))

    # Then it reconnected with the id of the last whole event each time, and saw each event once
    assert streams.last_event_ids == [None, "3", "6"]
    assert [e.id for e in events[:-1]] == [e["seq"] for e in LOG]
    assert 99 not in [e.id for e in events]


def test_resuming_from_a_given_id_sends_it_as_last_event_id(streams: ScriptedStreams) -> None:
    with ComputalotClient(streams.url, "flk_x") as client:
        events = list(client.watch([JOB, "job_other"], last_event_id=7))
    assert streams.last_event_ids == ["7"]
    assert [e.id for e in events] == [8, 9, None]


def test_without_reconnect_a_drop_raises_connection_failed(streams: ScriptedStreams) -> None:
    streams.drops = 1
    with ComputalotClient(streams.url, "flk_x") as client, pytest.raises(ConnectionFailed) as caught:
        list(client.stream(JOB, reconnect=False))
    assert "last event id 3" in caught.value.message


def test_a_refused_stream_raises_the_mapped_error_without_retrying(streams: ScriptedStreams) -> None:
    streams.status = 404
    with ComputalotClient(streams.url, "flk_x") as client, pytest.raises(NotFound):
        list(client.stream(JOB))
    assert len(streams.last_event_ids) == 1


def test_subscribe_without_the_zmq_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_zmq(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "zmq":
            raise ImportError("No module named 'zmq'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_zmq)
    with pytest.raises(ImportError, match=r"computalot\[zmq\]"):
        subscribe("tcp://127.0.0.1:1", "acc_x")


def test_the_watch_command_shows_progress_output_and_the_results(streams: ScriptedStreams) -> None:
    # When `computalot watch` follows the job
    env = {"COMPUTALOT_URL": streams.url, "COMPUTALOT_TOKEN": "flk_x"}
    result = CliRunner(env=env).invoke(cli, ["watch", JOB], catch_exceptions=False)

    # Then it printed the output lines (verbatim, prefixed by task), the bar, and the results summary
    assert result.exit_code == 0, result.output
    assert "[0] hello" in result.output
    assert "[0] [bold]not markup[/bold]" in result.output
    assert "3 lines not shown" in result.output
    assert "2/2" in result.output
    assert f"job {JOB}: partial" in result.output


def test_the_watch_command_prints_json_lines_under_json(streams: ScriptedStreams) -> None:
    env = {"COMPUTALOT_URL": streams.url, "COMPUTALOT_TOKEN": "flk_x"}
    result = CliRunner(env=env).invoke(cli, ["--json", "watch", JOB], catch_exceptions=False)
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["id"] for line in lines] == [e["seq"] for e in LOG] + [None]
    assert lines[-1]["event"] == "end"
