"""The live event feed: new rows of the event log, read once after each commit and handed to whoever listens.

The database is the source of truth. Every write transaction wakes the feed (its `after_commit` hook on
the writer thread, `loop.call_soon_threadsafe`); the feed then reads the events after its cursor in id
order, pushes each to the subscriptions that match it (SSE streams) and hands every batch to the app's
hooks (`after_events`: the ZeroMQ publisher, metrics). A subscription that falls behind is marked
overflowed and its stream re-reads the database from its last id, so nothing is lost, only delayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import peewee as pw

from controller.core.background import wait_or_timeout
from controller.core.db import Store
from controller.core.hooks import HookEmitter, Hooks
from controller.core.web import iso
from controller.live.models import Event

logger = logging.getLogger(__name__)

#: Events read per database round trip.
BATCH = 1000
#: Events a subscription holds before it is marked overflowed (its stream then re-reads the database).
SUBSCRIPTION_CAPACITY = 2000
#: Seconds between reads when no commit woke the feed (a safety net; commits wake it at once).
POLL_S = 1.0


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One row of the event log."""

    seq: int
    kind: str
    account_id: str
    job_id: str | None
    project_id: str | None
    data: dict[str, Any]
    created_at: float

    @classmethod
    def from_row(cls, row: Event) -> FeedEvent:
        return cls(row.id, row.kind, row.account_id, row.job_id, row.project_id, row.data, row.created_at)

    def public(self) -> dict[str, Any]:
        """The shape clients see on SSE, on ZeroMQ and in `GET /api/v1/jobs/:id/events`."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "job_id": self.job_id,
            "data": self.data,
            "created_at": iso(self.created_at),
        }


def read_events(where: pw.Expression | None, after: int, limit: int = BATCH) -> list[FeedEvent]:
    """Events matching `where` with an id above `after`, oldest first."""
    query = Event.select().where(Event.id > after)
    if where is not None:
        query = query.where(where)
    return [FeedEvent.from_row(row) for row in query.order_by(Event.id).limit(limit)]


def last_event_id() -> int:
    """The highest event id so far (0 for an empty log)."""
    return Event.select(pw.fn.MAX(Event.id)).scalar() or 0


class Subscription:
    """Events for one stream, pushed by the feed in id order."""

    def __init__(self, match: Callable[[FeedEvent], bool], capacity: int = SUBSCRIPTION_CAPACITY) -> None:
        self.match = match
        self.capacity = capacity
        self.overflowed = False
        self.closed = False
        #: where the feed files it: (index, job or project id)
        self.keys: list[tuple[dict[str, set[Subscription]], str]] = []
        self._events: deque[FeedEvent] = deque()
        self._ready = asyncio.Event()

    def push(self, event: FeedEvent) -> None:
        if len(self._events) >= self.capacity:
            self.overflowed = True
        else:
            self._events.append(event)
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def wait(self, timeout_s: float) -> bool:
        """Whether something arrived (or the subscription closed) within `timeout_s`."""
        return await wait_or_timeout(self._ready, timeout_s)

    def drain(self) -> list[FeedEvent]:
        """Everything pushed since the last drain; clears the overflow mark."""
        self._ready.clear()
        self.overflowed = False
        events = list(self._events)
        self._events.clear()
        return events


class EventFeed(Hooks):
    """Reads new events after each commit and fans them out; one per controller process.

    `hooks` are told `after_events` with every batch; the feed adds itself to them on start, to be woken
    `after_commit` (pass the emitter the store was built with).
    """

    def __init__(self, store: Store, hooks: HookEmitter, batch: int = BATCH, poll_s: float = POLL_S) -> None:
        self.store = store
        self.hooks = hooks
        self.batch = batch
        self.poll_s = poll_s
        self.cursor = 0
        self._by_job: dict[str, set[Subscription]] = {}
        self._by_project: dict[str, set[Subscription]] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start after the newest event: history is for streams to replay, not to publish again."""
        self._loop = asyncio.get_running_loop()
        self.cursor = await self.store.read(last_event_id)
        self.hooks.add(self)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self.close_subscriptions()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def close_subscriptions(self) -> None:
        """End every stream (on shutdown, so open SSE responses finish instead of holding the server)."""
        for subs in (*self._by_job.values(), *self._by_project.values()):
            for sub in subs:
                sub.close()

    def after_commit(self) -> None:
        """Hook: a write committed, so new events may be waiting."""
        self.wake_threadsafe()

    def wake_threadsafe(self) -> None:
        """Ask for a read soon; safe from any thread (the writer thread calls it after each commit)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
                loop.call_soon_threadsafe(self._wake.set)

    def subscribe(
        self, match: Callable[[FeedEvent], bool], *, jobs: Iterable[str] = (), project: str | None = None
    ) -> Subscription:
        """A subscription to the events of `jobs` and/or `project` that `match` accepts."""
        sub = Subscription(match)
        sub.keys = [(self._by_job, job_id) for job_id in jobs]
        if project is not None:
            sub.keys.append((self._by_project, project))
        for index, key in sub.keys:
            index.setdefault(key, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        for index, key in sub.keys:
            subs = index.get(key)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del index[key]

    @property
    def subscriptions(self) -> int:
        return len({sub for index in (self._by_job, self._by_project) for subs in index.values() for sub in subs})

    async def _run(self) -> None:
        while True:
            await wait_or_timeout(self._wake, self.poll_s)
            self._wake.clear()
            try:
                await self.pump()
            except Exception:
                logger.exception("reading new events failed after seq=%d; retrying", self.cursor)
                await asyncio.sleep(self.poll_s)

    async def pump(self) -> int:
        """Read and hand out every event after the cursor; returns how many."""
        total = 0
        while True:
            events = await self.store.read(read_events, None, self.cursor, self.batch)
            if not events:
                return total
            self.cursor = events[-1].seq
            total += len(events)
            self._dispatch(events)
            if len(events) < self.batch:
                return total

    def _dispatch(self, events: list[FeedEvent]) -> None:
        for event in events:
            subs = set()
            if event.job_id is not None:
                subs |= self._by_job.get(event.job_id, set())
            if event.project_id is not None:
                subs |= self._by_project.get(event.project_id, set())
            for sub in subs:
                if sub.match(event):
                    sub.push(event)
        self.hooks.after_events(events)
