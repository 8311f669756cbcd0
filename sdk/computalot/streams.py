"""Server-sent event streams: a parser, and a reader that resumes after a dropped connection.

The controller gives every event an `id` (its sequence number). When a connection drops, the reader
reconnects with `Last-Event-ID: <last id it yielded>`, so the caller sees each event once and misses none.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import ConnectionFailed, ServiceUnavailable, from_response

logger = logging.getLogger(__name__)

#: Seconds without a byte (the server sends a heartbeat every 15 s) after which the connection counts as dead.
READ_TIMEOUT_S = 60.0
#: Reconnection attempts in a row, without an event in between, before the reader gives up.
MAX_RECONNECTS = 8
#: Statuses answered while the controller restarts or is overloaded: worth reconnecting.
_TRANSIENT = (502, 503, 504)


@dataclass(frozen=True)
class StreamEvent:
    """One event: `event` is its kind (`status`, `task`, `progress`, `output`, `result`, `end`)."""

    event: str
    data: Any
    id: int | None = None

    @property
    def job_id(self) -> str | None:
        """The job the event belongs to (every event but a watch stream's `end`)."""
        return self.data.get("job_id") if isinstance(self.data, dict) else None


class SSEParser:
    """Turns the lines of a `text/event-stream` body into events (comments and unknown fields are skipped)."""

    def __init__(self) -> None:
        self.retry_ms: int | None = None
        self._reset()

    def _reset(self) -> None:
        self._event = "message"
        self._data: list[str] = []
        self._id: int | None = None

    def feed(self, line: str) -> StreamEvent | None:
        """Take one line (without its line break); returns an event when a blank line completes one."""
        if not line:
            if not self._data:
                self._reset()
                return None
            text = "\n".join(self._data)
            try:
                data: Any = json.loads(text)
            except ValueError:
                data = text
            event = StreamEvent(self._event, data, self._id)
            self._reset()
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and value.isdigit():
            self._id = int(value)
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None


def parse_sse(lines: Iterable[str]) -> Iterator[StreamEvent]:
    """The events of an iterable of lines."""
    parser = SSEParser()
    for line in lines:
        event = parser.feed(line)
        if event is not None:
            yield event


def follow(
    http: httpx.Client,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    last_event_id: int | None = None,
    reconnect: bool = True,
    read_timeout_s: float = READ_TIMEOUT_S,
    max_reconnects: int = MAX_RECONNECTS,
) -> Iterator[StreamEvent]:
    """Yield the events of the stream at `path` until its `end` event (yielded last).

    Raises:
      ComputalotError: the controller refused the stream (404, 401, 422, ...).
      ConnectionFailed: the connection kept dropping `max_reconnects` times in a row (or once, without
        `reconnect`).
    """
    retry_ms = 2000
    failures = 0
    while True:
        parser = SSEParser()  # a fresh one per connection: a line cut by the drop must not leak into the next
        try:
            for event in _read_once(http, path, params, last_event_id, read_timeout_s, parser):
                failures = 0
                if event.id is not None:
                    if last_event_id is not None and event.id <= last_event_id:
                        continue  # already yielded before the reconnection
                    last_event_id = event.id
                yield event
                if event.event == "end":
                    return
            problem = "the stream closed before its end event"
        except (httpx.TransportError, ServiceUnavailable) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        failures += 1
        retry_ms = parser.retry_ms or retry_ms
        if not reconnect or failures > max_reconnects:
            raise ConnectionFailed(
                f"stream {path} dropped ({problem}); last event id {last_event_id}",
                recommended_action="Call again with last_event_id to resume where it stopped.",
            )
        delay_s = min(30.0, retry_ms / 1000 * failures)
        logger.info("stream %s dropped (%s); resuming after id %s in %.1fs", path, problem, last_event_id, delay_s)
        time.sleep(delay_s)


def _read_once(
    http: httpx.Client,
    path: str,
    params: dict[str, Any] | None,
    last_event_id: int | None,
    read_timeout_s: float,
    parser: SSEParser,
) -> Iterator[StreamEvent]:
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    timeout = httpx.Timeout(10.0, read=read_timeout_s)
    with http.stream("GET", path, params=params, headers=headers, timeout=timeout) as response:
        if not response.is_success:
            error = from_response(response.status_code, response.read())
            if response.status_code in _TRANSIENT:
                raise ServiceUnavailable(error.message)
            raise error
        for line in response.iter_lines():
            event = parser.feed(line)
            if event is not None:
                yield event
