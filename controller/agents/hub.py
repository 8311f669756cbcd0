"""The controller's ZeroMQ side: agent events in (PULL), control out (PUB).

Output lines and progress arrive far faster than they are worth writing; they are kept
in memory per task attempt and flushed to the database in one transaction per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import zmq
import zmq.asyncio
from aiohttp import web

from broker.errors import DecodeError
from broker.messages import AgentHeartbeat, Control, TaskOutput, TaskProgress, decode, encode
from broker.output import TAIL_BYTES, last_bytes
from broker.statuses import TaskStatus
from controller.agents.roster import AgentRoster
from controller.core.db import Store
from controller.jobs.models import Job, Task
from controller.live.models import Event
from controller.live.output_events import PendingOutput

logger = logging.getLogger(__name__)


@dataclass
class _Live:
    """Unflushed live feedback of one task attempt."""

    job_id: str
    attempt: int
    tail: str = ""
    progress: dict[str, Any] | None = None
    progress_dirty: bool = False
    output_dirty: bool = False
    last_seq: dict[str, int] = field(default_factory=dict)
    gaps: int = 0
    #: lines since the last flush, for the task's next `output` event
    output: PendingOutput = field(default_factory=PendingOutput)


class Hub:
    """Binds the agent-facing ZeroMQ sockets and batches what arrives on them."""

    def __init__(
        self,
        store: Store,
        roster: AgentRoster,
        host: str,
        events_port: int,
        control_port: int,
        flush_interval_s: float,
    ) -> None:
        self.store = store
        self.roster = roster
        self.flush_interval_s = flush_interval_s
        self._ctx = zmq.asyncio.Context()
        self._pull = self._ctx.socket(zmq.PULL)
        self._pub = self._ctx.socket(zmq.PUB)
        self.events_endpoint = _bind(self._pull, host, events_port)
        self.control_endpoint = _bind(self._pub, host, control_port)
        self._live: dict[str, _Live] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._receive()), asyncio.create_task(self._flush_forever())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.flush()
        self._pull.close(linger=0)
        self._pub.close(linger=0)
        self._ctx.term()

    async def publish(self, control: Control) -> None:
        """Tell every agent (best effort; agents also check state before starting a task)."""
        await self._pub.send_multipart([control.action.encode(), encode(control)])

    async def _receive(self) -> None:
        while True:
            raw = await self._pull.recv()
            try:
                self.handle(decode(raw))
            except DecodeError as exc:
                logger.warning("dropping undecodable agent frame: %s", exc)

    def handle(self, message: Any) -> None:
        """Route one decoded frame."""
        if isinstance(message, AgentHeartbeat):
            self.roster.update(message)
        elif isinstance(message, TaskOutput):
            live = self._entry(message.job_id, message.task_id, message.attempt)
            if live is not None:
                self._note_seq(live, message.stream, message.seq)
                # Each line takes at least one byte, so older lines than the last TAIL_BYTES cannot show.
                recent = message.lines[-TAIL_BYTES:]
                live.tail = last_bytes(live.tail + "".join(line + "\n" for line in recent), TAIL_BYTES)
                live.output.add(message.lines)
                live.output_dirty = True
        elif isinstance(message, TaskProgress):
            live = self._entry(message.job_id, message.task_id, message.attempt)
            if live is not None:
                self._note_seq(live, "progress", message.seq)
                live.progress, live.progress_dirty = message.progress, True

    def _entry(self, job_id: str, task_id: str, attempt: int) -> _Live | None:
        live = self._live.get(task_id)
        if live is None or live.attempt < attempt:
            live = self._live[task_id] = _Live(job_id=job_id, attempt=attempt)
        return live if live.attempt == attempt else None

    @staticmethod
    def _note_seq(live: _Live, stream: str, seq: int) -> None:
        last = live.last_seq.get(stream, 0)
        if seq > last + 1:
            live.gaps += seq - last - 1
        live.last_seq[stream] = max(last, seq)

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval_s)
            try:
                await self.flush()
            except Exception:
                logger.exception("flushing live task feedback failed; retrying next interval")

    async def flush(self) -> None:
        """Write buffered output tails and progress in one transaction."""
        dirty = {tid: live for tid, live in self._live.items() if live.output_dirty or live.progress_dirty}
        if not dirty:
            return
        updates = {
            tid: (
                live.job_id,
                live.attempt,
                live.tail if live.output_dirty else None,
                live.progress if live.progress_dirty else None,
                live.output.take() if live.output_dirty else None,
            )
            for tid, live in dirty.items()
        }
        for live in dirty.values():
            live.output_dirty = live.progress_dirty = False
        await self.store.write(_write_live, updates)
        self._forget_finished()

    def _forget_finished(self) -> None:
        # Bounded memory: entries of tasks that are no longer running are dropped once flushed.
        if len(self._live) > 1000:
            rows = Task.select(Task.id).where(Task.id.in_(list(self._live)), Task.status == TaskStatus.RUNNING)
            running = {t.id for t in rows}
            for tid in [tid for tid in self._live if tid not in running]:
                del self._live[tid]


_Update = tuple[str, int, str | None, dict[str, Any] | None, dict[str, Any] | None]


#: the app's hub (built by the app's runtime context)
HUB = web.AppKey("hub", Hub)


def _write_live(updates: dict[str, _Update]) -> None:
    """Per task attempt still running: the output tail and latest progress, and `output`/`progress` events."""
    now = time.time()
    for task_id, (job_id, attempt, tail, progress, output) in updates.items():
        fields: dict[Any, Any] = {}
        if tail is not None:
            fields[Task.output_tail] = tail
        if progress is not None:
            fields[Task.latest_progress] = progress
        still_running = (Task.id == task_id) & (Task.attempt == attempt) & (Task.status == TaskStatus.RUNNING)
        changed = Task.update(fields).where(still_running).execute()
        if not changed or (progress is None and output is None):
            continue
        job = Job.get_by_id(job_id)
        if output is not None:
            Event.create(
                account=job.account_id,
                job=job_id,
                project=job.project_id,
                kind="output",
                data={"task_id": task_id, "attempt": attempt, **output},
                created_at=now,
            )
        if progress is not None:
            Event.create(
                account=job.account_id,
                job=job_id,
                project=job.project_id,
                kind="progress",
                data={"task_id": task_id, "attempt": attempt, "progress": progress},
                created_at=now,
            )


def _bind(socket: zmq.asyncio.Socket, host: str, port: int) -> str:
    if port:
        socket.bind(f"tcp://{host}:{port}")
    else:
        port = socket.bind_to_random_port(f"tcp://{host}")
    return f"tcp://{host}:{port}"
