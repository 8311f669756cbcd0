"""Moves planned task attempts from the database into the broker, in batches.

The database is the truth: a task attempt is enqueued only after its row exists, and is
marked enqueued only after the broker accepted it, so a crash in between re-sends (the
agents' claim turns the duplicate into a no-op) instead of losing the task.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import dramatiq
import peewee as pw
from aiohttp import web

from broker.messages import TaskMessage
from broker.queues import recipe_queue, task_queue
from broker.statuses import ACTIVE_JOB, UNFINISHED_TASK, TaskStatus
from broker.transport import send_task
from controller.core.background import BackgroundLoop
from controller.core.db import Store
from controller.core.hooks import Hooks
from controller.jobs.models import Job, Task
from controller.jobs.planning import Plan
from controller.jobs.spec import plan_of, spec_of

if TYPE_CHECKING:
    from controller.jobs.outcomes import Applied

logger = logging.getLogger(__name__)

#: Task attempts sent per database round trip.
BATCH = 1000


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


def send_batch(broker: dramatiq.Broker, batch: list[tuple[TaskMessage, str, str]]) -> None:
    """Enqueue (message, queue, priority) triples in order (recipe queues are declared on first use)."""
    for queue in {queue for _, queue, _ in batch} - broker.get_declared_queues():
        broker.declare_queue(queue)
    for message, queue, priority in batch:
        send_task(broker, message, queue, priority)


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
        batch = [(self._message(task, job), job_queue(job), job.priority) for task, job in pending]
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._sender, send_batch, self.broker, batch)
        await self.store.write(
            mark_enqueued, [(m.task_id, m.attempt) for m, _, _ in batch], {m.job_id for m, _, _ in batch}
        )
        logger.debug("dispatched %d task attempts", len(batch))
        return len(batch)

    def _message(self, task: Task, job: Job) -> TaskMessage:
        return build_message(task, job, plan_of(job))


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
