"""Moves planned task attempts from the database into the broker, in batches.

The database is the truth: a task attempt is enqueued only after its row exists, and is
marked enqueued only after the broker accepted it, so a crash in between re-sends (the
agents' claim turns the duplicate into a no-op) instead of losing the task.

A job whose message cannot be built or sent (a payload msgpack cannot encode, a message the
broker refuses) is quarantined: failed on its own with `dispatch_failed`, its hold settled,
while the rest of the batch goes on. Only a lost broker connection fails the whole pass.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import dramatiq
import dramatiq.errors
import peewee as pw
from aiohttp import web

from broker.messages import TaskMessage, encode
from broker.queues import recipe_queue, task_queue
from broker.statuses import ACTIVE_JOB, UNFINISHED_TASK, TaskStatus
from broker.transport import send_task
from controller.core.background import BackgroundLoop
from controller.core.db import Store
from controller.core.hooks import Hooks
from controller.jobs import outcomes
from controller.jobs.models import Job, Task
from controller.jobs.planning import Plan
from controller.jobs.spec import plan_of, spec_of

if TYPE_CHECKING:
    from controller.jobs.outcomes import Applied
logger = logging.getLogger(__name__)

#: Task attempts sent per database round trip.
BATCH = 1000
#: Largest encoded task message sent (RabbitMQ refuses 128 MiB by default); larger fails its job.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

#: (message, queue, priority) of one task attempt.
Outgoing = tuple[TaskMessage, str, str]


_PRIORITY_RANK = pw.Case(Job.priority, (("high", 0), ("normal", 1)), 2)


def pending_tasks(limit: int) -> list[tuple[Task, Job]]:
    """Up to `limit` task attempts not yet in the broker: high-priority jobs first, then oldest first.

    Each job row (with its possibly large spec) is loaded once, not once per task.
    """
    pending: list[tuple[Task, Job]] = []
    jobs = (
        Job.select()
        .where(Job.dispatch_pending == True, Job.status.in_(ACTIVE_JOB))  # noqa: E712
        .order_by(_PRIORITY_RANK, Job.created_at)
    )
    for job in jobs:
        tasks = (
            Task.select(Task.id, Task.job, Task.task_index, Task.attempt, Task.payload, Task.command)
            .where(Task.job == job.id, Task.enqueued == False, Task.status == TaskStatus.QUEUED)  # noqa: E712
            .order_by(Task.task_index)
            .limit(limit - len(pending))
        )
        pending.extend((task, job) for task in tasks)
        if len(pending) >= limit:
            break
    return pending


def mark_enqueued(pairs: list[tuple[str, int]], job_ids: set[str]) -> None:
    """Record that these (task id, attempt) messages are in the broker; jobs with nothing left stop being pending."""
    by_attempt: dict[int, list[str]] = {}
    for tid, attempt in pairs:
        by_attempt.setdefault(attempt, []).append(tid)
    for attempt, ids in by_attempt.items():
        for start in range(0, len(ids), 500):
            Task.update(enqueued=True).where(Task.id.in_(ids[start : start + 500]), Task.attempt == attempt).execute()
    for job_id in job_ids:
        left = Task.select().where(
            Task.job == job_id,
            Task.enqueued == False,  # noqa: E712
            Task.status == TaskStatus.QUEUED,
        )
        if not left.exists():
            Job.update(dispatch_pending=False).where(Job.id == job_id).execute()


def requeue_all_unfinished() -> int:
    """After a restart on a broker that forgets (memory://): every unfinished task goes back to the broker."""
    Job.update(dispatch_pending=True).where(Job.status.in_(ACTIVE_JOB)).execute()
    return Task.update(enqueued=False).where(Task.status.in_(UNFINISHED_TASK)).execute()


def job_queue(job: Job) -> str:
    """The queue a job's tasks go to: its recipe's, or its capacity class's, at its priority."""
    if job.runtime == "recipe":
        return recipe_queue(job.queue_key, job.priority)
    return task_queue(job.profile, job.priority)


def send_batch(broker: dramatiq.Broker, batch: list[Outgoing]) -> dict[str, str]:
    """Enqueue (message, queue, priority) triples in order (recipe queues are declared on first use).

    Returns the jobs whose message the broker refused, each with why; their other messages are skipped.

    Raises:
      dramatiq.errors.ConnectionError: the broker is unreachable (the whole batch is sent again later).
    """
    for queue in {queue for _, queue, _ in batch} - broker.get_declared_queues():
        broker.declare_queue(queue)
    refused: dict[str, str] = {}
    for message, queue, priority in batch:
        if message.job_id in refused:
            continue
        try:
            send_task(broker, message, queue, priority)
        except dramatiq.errors.ConnectionError:
            raise
        except Exception as exc:  # this message only: the next job's may be fine
            logger.exception("job=%s task=%s: the broker refused its message", message.job_id, message.task_id)
            refused[message.job_id] = f"the broker refused task {message.index}'s message: {exc}"
    return refused


def build_batch(pending: list[tuple[Task, Job]]) -> tuple[list[Outgoing], dict[str, str]]:
    """The messages of pending attempts, and the jobs whose message could not be built, each with why."""
    batch: list[Outgoing] = []
    broken: dict[str, str] = {}
    for task, job in pending:
        if job.id in broken:
            continue
        try:
            message = build_message(task, job, plan_of(job))
            size = len(encode(message))  # fails here, on this job alone, if msgpack cannot encode the payload
        except Exception as exc:
            logger.exception("job=%s task=%s: its task message cannot be built", job.id, task.id)
            broken[job.id] = f"task {task.task_index}'s message cannot be built: {type(exc).__name__}: {exc}"
            continue
        if size > MAX_MESSAGE_BYTES:
            broken[job.id] = f"task {task.task_index}'s message is {size} bytes; the limit is {MAX_MESSAGE_BYTES}"
            continue
        batch.append((message, job_queue(job), job.priority))
    return [out for out in batch if out[0].job_id not in broken], broken


class Dispatcher(BackgroundLoop, Hooks):
    """Sends pending task attempts to the broker whenever woken, and every second regardless."""

    def __init__(self, store: Store, broker: dramatiq.Broker) -> None:
        super().__init__()
        self.store = store
        self.broker = broker
        # The broker client is blocking (pika, redis-py); one thread keeps its connection.
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispatch")

    async def stop(self) -> None:
        await super().stop()
        self._sender.shutdown(wait=True)

    def after_applied(self, applied: Applied) -> None:
        """Hook: a retry, a reduce task or released dependents may be due (wakes coalesce into one pass)."""
        self.wake_threadsafe()

    async def run_once(self) -> bool:
        return await self.dispatch_once() == BATCH

    async def dispatch_once(self) -> int:
        """Send one batch of pending attempts; returns how many were sent."""
        pending = await self.store.read(pending_tasks, BATCH)
        if not pending:
            return 0
        batch, broken = build_batch(pending)
        loop = asyncio.get_running_loop()
        broken.update(await loop.run_in_executor(self._sender, send_batch, self.broker, batch))
        sent = [m for m, _, _ in batch if m.job_id not in broken]
        await self.store.write(mark_enqueued, [(m.task_id, m.attempt) for m in sent], {m.job_id for m in sent})
        if broken:
            await self.store.write(outcomes.fail_undispatchable, broken)
        logger.debug("dispatched %d task attempts; %d jobs quarantined", len(sent), len(broken))
        return len(pending)


#: the app's dispatcher (built by the app's runtime context)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)


def build_message(task: Task, job: Job, plan: Plan) -> TaskMessage:
    """The broker message of a task's current attempt."""
    return TaskMessage(
        job_id=job.id,
        task_id=task.id,
        attempt=task.attempt,
        index=task.task_index,
        count=job.task_count,
        payload=task.payload if task.payload is not None else plan.task_payload(task.task_index),
        timeout_s=spec_of(job).timeout_s,
        command=tuple(task.command or job.command or ()),
        runtime=job.runtime,
        revision_hash=job.revision_hash,
        workdir=job.workdir,
        recipe=job.recipe,
        checkpointing=spec_of(job).checkpointing,
    )
