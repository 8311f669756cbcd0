"""Hooks: one failing hook never stops the others, and each real hook hears its event from the real parts."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from aiohttp import web

from broker.connection import connect
from broker.transport import send_result
from controller.accounts.auth import create_account
from controller.agents.roster import ROSTER
from controller.app import create_app
from controller.core.db import Store
from controller.core.hooks import HookEmitter, Hooks
from controller.core.settings import Settings
from controller.jobs.callbacks import CallbackSender
from controller.jobs.dispatcher import Dispatcher
from controller.jobs.models import Job, Task
from controller.jobs.outcomes import Applied
from controller.jobs.results import start_results_worker
from controller.live.feed import EventFeed, FeedEvent
from controller.live.models import Event
from controller.live.setup import FEED, PROBE, PUBLISHER
from controller.ops.metrics import METRICS, Metrics
from controller.schema import open_database
from tests.controller.billing.support import claim, job_body, new_account, result, submit

#: Seconds a test waits for a hook's effect; the loops under test would otherwise act only after an hour.
WAIT_S = 20.0
AN_HOUR_S = 3600.0


class Recorder(Hooks):
    """Remembers every call and the thread it came on; `until` waits on the event loop for a condition."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.calls: list[tuple[str, str, tuple[Any, ...]]] = []
        self._loop = loop
        self._changed = asyncio.Event()

    def after_startup(self, app: web.Application) -> None:
        self._note("after_startup", app)

    def after_commit(self) -> None:
        self._note("after_commit")

    def after_events(self, events: list[FeedEvent]) -> None:
        self._note("after_events", events)

    def after_applied(self, applied: Applied) -> None:
        self._note("after_applied", applied)

    def named(self, method: str) -> list[tuple[str, tuple[Any, ...]]]:
        """(thread name, arguments) of each call of `method`."""
        return [(thread, args) for name, thread, args in self.calls if name == method]

    async def until(self, check: Callable[[], bool]) -> None:
        """Return once `check()` holds, re-checking after every call this recorder hears."""
        async with asyncio.timeout(WAIT_S):
            while True:
                self._changed.clear()  # before the check, so a call landing in between is not missed
                if check():
                    return
                await self._changed.wait()

    def _note(self, method: str, *args: Any) -> None:
        self.calls.append((method, threading.current_thread().name, args))
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._changed.set)


class Failing(Hooks):
    def after_commit(self) -> None:
        raise RuntimeError("this hook is broken")


@pytest.fixture
async def recorder() -> Recorder:
    return Recorder(asyncio.get_running_loop())


@pytest.fixture
def hooks(recorder: Recorder) -> HookEmitter:
    return HookEmitter([recorder])


@pytest.fixture
def store(tmp_path: Path, hooks: HookEmitter) -> Iterator[Store]:
    store = Store(open_database(f"sqlite:///{tmp_path / 'db.sqlite'}"), hooks)
    yield store
    store.close()


@pytest.fixture
def broker() -> Iterator[dramatiq.Broker]:
    broker = connect("memory://")
    yield broker
    broker.close()


@pytest.fixture
def results(broker: dramatiq.Broker, store: Store, hooks: HookEmitter) -> Iterator[dramatiq.Worker]:
    """The controller's results consumer on the in-process broker, telling `hooks` what it applied."""
    worker = start_results_worker(broker, store, hooks)
    yield worker
    worker.stop()


def push_event(kind: str, data: dict[str, Any], created_at: float) -> None:
    account = create_account(f"acc-{kind}-{created_at}")
    Event.create(account=account, kind=kind, data=data, created_at=created_at)


def test_a_failing_hook_is_logged_with_its_name_and_method_and_the_next_hooks_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a broken hook registered before a working one
    recorder = Recorder()
    emitter = HookEmitter([Failing(), recorder])

    # When a commit is announced
    with caplog.at_level(logging.ERROR, logger="controller.core.hooks"):
        emitter.after_commit()

    # Then the failure is logged with its traceback, naming the hook and the method, and nothing is raised
    [record] = caplog.records
    assert "Failing.after_commit" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    # ... and the hook after it still heard the commit
    assert [name for name, _, _ in recorder.calls] == ["after_commit"]


def test_hooks_hear_a_commit_on_the_writer_thread_and_never_a_rolled_back_write(
    store: Store, recorder: Recorder
) -> None:
    # Given a write that commits and one that fails inside its transaction
    def fails() -> None:
        create_account("rolled-back")
        raise ValueError("abort the transaction")

    # When both run through the store
    store.write_sync(create_account, "kept")
    with pytest.raises(ValueError):
        store.write_sync(fails)

    # Then only the committed one was announced, on the writer thread
    [(thread, _)] = recorder.named("after_commit")
    assert thread.startswith("db-writer")


async def test_the_feed_wakes_on_a_commit_and_hands_each_new_event_to_the_hooks(
    store: Store, hooks: HookEmitter, recorder: Recorder
) -> None:
    # Given a running feed that would poll only once an hour
    feed = EventFeed(store, hooks, poll_s=AN_HOUR_S)
    await feed.start()
    try:
        # When a transaction appends an event to the log
        await store.write(push_event, "push", {"n": 1}, 100.0)

        # Then the commit woke the feed, and the hooks got the new event on the event loop's thread
        await recorder.until(lambda: bool(recorder.named("after_events")))
        [(thread, (events,))] = recorder.named("after_events")
        assert [(e.kind, e.data) for e in events] == [("push", {"n": 1})]
        assert thread == threading.current_thread().name
    finally:
        await feed.stop()


async def test_metrics_time_a_task_attempt_from_the_events_the_feed_hands_them(
    store: Store, hooks: HookEmitter, recorder: Recorder
) -> None:
    # Given metrics registered before the recorder, and a running feed
    metrics = Metrics()
    hooks.hooks.insert(0, metrics)
    feed = EventFeed(store, hooks, poll_s=AN_HOUR_S)
    await feed.start()
    try:
        # When a task attempt's running and completed events are written 3 seconds apart
        await store.write(push_event, "task", {"task_id": "t1", "status": "running"}, 100.0)
        await store.write(push_event, "task", {"task_id": "t1", "status": "completed"}, 103.0)
        await recorder.until(lambda: sum(len(args[0]) for _, args in recorder.named("after_events")) == 2)
    finally:
        await feed.stop()

    # Then the task duration histogram holds one completed attempt of 3 seconds
    labels = {"status": "completed"}
    assert metrics.registry.get_sample_value("computalot_task_duration_seconds_count", labels) == 1
    assert metrics.registry.get_sample_value("computalot_task_duration_seconds_sum", labels) == 3.0


async def test_metrics_read_the_live_parts_of_the_app_once_it_started(aiohttp_client: Any, tmp_path: Path) -> None:
    # Given a controller app
    app = create_app(Settings(data_dir=tmp_path))

    # When it has started
    await aiohttp_client(app)

    # Then its metrics read the app's own feed, publisher, broker probe and agent roster
    sources = app[METRICS].sources
    assert sources.feed is app[FEED] and sources.publisher is app[PUBLISHER]
    assert sources.probe is app[PROBE] and sources.agents is app[ROSTER]


async def test_a_result_that_retries_its_task_wakes_the_dispatcher_to_send_the_next_attempt(
    store: Store, hooks: HookEmitter, recorder: Recorder, broker: dramatiq.Broker, results: dramatiq.Worker
) -> None:
    # Given a one-task job allowed one retry, whose first attempt the dispatcher sent and an agent claimed
    account = await store.write(new_account, store.db, 10**9)
    job = await store.write(submit, account, job_body(tasks=1, max_retries=1))
    dispatcher = Dispatcher(store, broker)
    dispatcher.interval_s = AN_HOUR_S  # so only a wake can send the retry within the test
    hooks.add(dispatcher)
    dispatcher.start()
    try:
        task_id = Task.get(Task.job == job.id).id
        await recorder.until(lambda: Task.get_by_id(task_id).enqueued)
        await store.write(claim, task_id)

        # When the agent reports that the attempt failed
        send_result(broker, result(Task.get_by_id(task_id), status="failed"))

        # Then the applied result was announced and the dispatcher sent attempt 2 at once
        await recorder.until(lambda: (task := Task.get_by_id(task_id)).attempt == 2 and task.enqueued)
    finally:
        await dispatcher.stop()
    [(_, (applied,))] = recorder.named("after_applied")
    assert (applied.job_id, applied.job_status, applied.retried) == (job.id, "running", True)


async def test_a_result_that_ends_its_job_wakes_the_callback_sender_to_deliver_at_once(
    store: Store, hooks: HookEmitter, broker: dramatiq.Broker, results: dramatiq.Worker, aiohttp_server: Any
) -> None:
    # Given a callback endpoint, and a running callback sender that would look for due callbacks once an hour
    delivered = asyncio.Event()

    async def endpoint(request: web.Request) -> web.Response:
        delivered.set()
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/hook", endpoint)
    server = await aiohttp_server(receiver)
    sender = CallbackSender(store, allow_private=True)
    sender.interval_s = AN_HOUR_S
    hooks.add(sender)
    sender.start()
    try:
        # ... and a one-task job with that callback, its task claimed by an agent
        account = await store.write(new_account, store.db, 10**9)
        body = {**job_body(tasks=1), "callback_url": f"http://127.0.0.1:{server.port}/hook"}
        job = await store.write(submit, account, body)
        task = Task.get(Task.job == job.id)
        await store.write(claim, task.id)

        # When the agent reports the task completed
        send_result(broker, result(Task.get_by_id(task.id)))

        # Then the job ended and its callback arrived without waiting for the sender's next round
        async with asyncio.timeout(WAIT_S):
            await delivered.wait()
    finally:
        await sender.stop()
    assert Job.get_by_id(job.id).status == "completed"
