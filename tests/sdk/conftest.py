"""A real aiohttp server on 127.0.0.1 that answers canned JSON and records what the SDK sent."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    raw_path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        """The request body decoded as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    """One canned answer."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"


@dataclass
class FakeController:
    """Canned replies keyed by (method, path); a route's last reply repeats once the others are used up."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    replies: dict[tuple[str, str], list[Reply]] = field(default_factory=dict)

    def reply(self, method: str, path: str, data: Any = None, *, status: int = 200, text: str | None = None) -> None:
        """Queue an answer for `method path`: JSON `data`, or plain `text`."""
        if text is not None:
            canned = Reply(status, text.encode(), "text/plain")
        else:
            canned = Reply(status, json.dumps(data).encode())
        self.replies.setdefault((method, path), []).append(canned)

    def sent(self, method: str, path: str) -> list[Recorded]:
        """The requests received for `method path`, in order."""
        return [r for r in self.requests if (r.method, r.path) == (method, path)]

    async def handle(self, request: web.Request) -> web.Response:
        """Record the request and answer the next canned reply (404 envelope when none was set)."""
        body = await request.read()
        raw_path = request.raw_path.split("?")[0]
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(Recorded(request.method, request.path, raw_path, dict(request.query), headers, body))
        queue = self.replies.get((request.method, request.path))
        if not queue:
            error = {"code": "not_found", "message": f"no canned reply for {request.method} {request.path}"}
            return web.json_response({"error": error}, status=404)
        canned = queue.pop(0) if len(queue) > 1 else queue[0]
        return web.Response(status=canned.status, body=canned.body, content_type=canned.content_type)


class _ServerThread:
    """Runs one aiohttp app on a free loopback port in a background event loop."""

    def __init__(self) -> None:
        self.controller = FakeController()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def start(self) -> None:
        """Bind 127.0.0.1:0, start the app, and record its URL."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(sock), self._loop).result(timeout=10)
        self.controller.url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def _serve(self, sock: socket.socket) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.controller.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    def stop(self) -> None:
        """Stop the app and the loop."""
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@pytest.fixture(scope="session")
def _server() -> Iterator[_ServerThread]:
    server = _ServerThread()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def controller(_server: _ServerThread) -> FakeController:
    """The fake controller, with no replies and no recorded requests."""
    _server.controller.requests.clear()
    _server.controller.replies.clear()
    return _server.controller


@pytest.fixture(autouse=True)
def _no_computalot_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start without COMPUTALOT_URL / COMPUTALOT_TOKEN from the developer's shell."""
    monkeypatch.delenv("COMPUTALOT_URL", raising=False)
    monkeypatch.delenv("COMPUTALOT_TOKEN", raising=False)
