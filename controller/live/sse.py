"""Server-sent event streams over the event log.

A stream first subscribes to the live feed, then replays the log after the client's last id, then sends
what the feed pushes, skipping ids it already sent. Every event carries `id: <seq>`, so a client that
reconnects with `Last-Event-ID` continues exactly after the last event it received. Job streams end with an
`end` event once every job they show is terminal and its last events were sent.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import peewee as pw
from aiohttp import web

from broker.statuses import TERMINAL_JOB
from controller.core.db import Store
from controller.core.errors import ValidationFailed, field_error
from controller.jobs.models import Job
from controller.live.feed import BATCH, EventFeed, FeedEvent, Subscription, read_events
from controller.live.models import Event

logger = logging.getLogger(__name__)

#: Milliseconds a client waits before reconnecting (sent once as `retry:`).
RETRY_MS = 2000
#: Longest wait between checks that the client is still connected.
_CHECK_S = 5.0
#: The largest event id: a database integer is 64-bit signed, and a larger one would fail the query after the
#: stream's 200 had been sent.
MAX_EVENT_ID = 2**63 - 1
#: Event kinds after which a job stream checks whether it may end.
_ENDING = frozenset({"status", "result"})
#: Job event kinds shown on a project stream (with every event of the project itself, such as `push`).
PROJECT_JOB_KINDS = ("status", "result")


def last_event_id(request: web.Request) -> int:
    """Where to resume: the `Last-Event-ID` header (a reconnecting EventSource sends it), else `?last_event_id=`.

    Raises:
      ValidationFailed: the value is not an integer from 0 to MAX_EVENT_ID.
    """
    raw = request.headers.get("Last-Event-ID") or request.query.get("last_event_id") or "0"
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_EVENT_ID:
        raise ValidationFailed([field_error("Last-Event-ID", "must be the id (an integer) of an event you received")])
    return value


def format_event(event: FeedEvent) -> bytes:
    """One SSE message: `id`, `event` (the kind) and `data` (the event as JSON on one line)."""
    data = json.dumps(event.public(), separators=(",", ":"), default=str)
    return f"id: {event.seq}\nevent: {event.kind}\ndata: {data}\n\n".encode()


def format_end(data: dict[str, object]) -> bytes:
    """The closing message; it has no id, so resuming after it replays nothing and ends again."""
    return f"event: end\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@dataclass(frozen=True)
class Scope:
    """What one stream shows: the events of some jobs, or of a project."""

    job_ids: tuple[str, ...] = ()
    project_id: str | None = None
    #: whether the end event maps every job to its status (watch) instead of naming one job
    many: bool = False
    #: job event kinds a project stream shows
    kinds: tuple[str, ...] = ()

    @property
    def ends(self) -> bool:
        return bool(self.job_ids)

    def match(self, event: FeedEvent) -> bool:
        if self.job_ids:
            return event.job_id in self.job_ids
        return event.job_id is None or event.kind in self.kinds

    def where(self) -> pw.Expression:
        if self.job_ids:
            return Event.job.in_(list(self.job_ids))
        return (Event.project == self.project_id) & (Event.job.is_null() | Event.kind.in_(list(self.kinds)))

    def statuses(self) -> dict[str, str]:
        rows = Job.select(Job.id, Job.status).where(Job.id.in_(list(self.job_ids)))
        return {row.id: row.status for row in rows}


class Stream:
    """One open SSE response."""

    def __init__(self, request: web.Request, scope: Scope, feed: EventFeed, store: Store, heartbeat_s: float) -> None:
        self.request, self.scope, self.feed, self.store = request, scope, feed, store
        self.heartbeat_s = heartbeat_s
        self.last = last_event_id(request)
        self.response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        self._written_at = time.monotonic()

    async def serve(self) -> web.StreamResponse:
        """Stream until the jobs end, the client leaves or the server shuts down."""
        # Subscribe before reading the log: whatever commits after the read reaches the subscription.
        sub = self.feed.subscribe(self.scope.match, jobs=self.scope.job_ids, project=self.scope.project_id)
        try:
            await self.response.prepare(self.request)
            await self._write(f"retry: {RETRY_MS}\n\n".encode())
            ended = await self._catch_up()
            while not ended and not sub.closed:
                ended = await self._next(sub)
        except ConnectionError as exc:  # the client left while we wrote
            logger.debug("stream of %s closed: %r", self.scope, exc)
        finally:
            self.feed.unsubscribe(sub)
        return self.response

    async def _next(self, sub: Subscription) -> bool:
        """Wait for the feed or the heartbeat; send what came; whether the stream ended."""
        idle_s = time.monotonic() - self._written_at
        if not await sub.wait(min(_CHECK_S, max(0.0, self.heartbeat_s - idle_s))):
            if self._client_gone():
                return True
            if time.monotonic() - self._written_at >= self.heartbeat_s:
                await self._write(b": heartbeat\n\n")
            # A job can turn terminal in a later commit than its last event; look again rather than wait forever.
            return await self._catch_up() if self.scope.ends else False
        if sub.closed:
            return True
        overflowed = sub.overflowed
        events = [e for e in sub.drain() if e.seq > self.last]
        if overflowed:  # some events were not kept for us: the log has them all
            return await self._catch_up()
        await self._send(events)
        if self.scope.ends and any(e.kind in _ENDING for e in events):
            return await self._catch_up()
        return False

    async def _catch_up(self) -> bool:
        """Send the log after the last id; whether every job of the stream is terminal (then `end` is sent)."""
        # Statuses first: a job seen terminal here already committed its last events, which the read below gets.
        statuses = await self.store.read(self.scope.statuses) if self.scope.ends else {}
        while True:
            events = await self.store.read(read_events, self.scope.where(), self.last)
            await self._send(events)
            if len(events) < BATCH:
                break
        if not (self.scope.ends and all(s in TERMINAL_JOB for s in statuses.values())):
            return False
        if self.scope.many:
            await self._write(format_end({"jobs": statuses}))
        else:
            job_id = self.scope.job_ids[0]
            await self._write(format_end({"job_id": job_id, "status": statuses[job_id]}))
        return True

    async def _send(self, events: list[FeedEvent]) -> None:
        fresh = [e for e in events if e.seq > self.last]
        if fresh:
            await self._write(b"".join(format_event(e) for e in fresh))
            self.last = fresh[-1].seq

    async def _write(self, data: bytes) -> None:
        await self.response.write(data)
        self._written_at = time.monotonic()

    def _client_gone(self) -> bool:
        transport = self.request.transport
        return transport is None or transport.is_closing()


def job_scope(job_id: str) -> Scope:
    """One job's events; ends with the job."""
    return Scope(job_ids=(job_id,))


def watch_scope(job_ids: list[str]) -> Scope:
    """Several jobs' events; ends when all of them ended."""
    return Scope(job_ids=tuple(job_ids), many=True)


def project_scope(project_id: str) -> Scope:
    """A project's own events and its jobs' status and result events; never ends."""
    return Scope(project_id=project_id, kinds=PROJECT_JOB_KINDS)
