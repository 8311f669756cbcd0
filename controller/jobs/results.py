"""The controller's Dramatiq consumer: task results from the agents, applied once each."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker

from broker.queues import APPLY_RESULT, RESULTS_QUEUE
from broker.transport import result_from_args
from controller.core.db import Store
from controller.core.hooks import HookEmitter
from controller.jobs import outcomes

logger = logging.getLogger(__name__)

#: How long the worker's threads wait for a message before checking whether to stop, in ms (stopping takes up to
#: twice this). The in-process broker only polls a local queue, so it checks often and stops in a blink.
POLL_MS, MEMORY_POLL_MS = 200, 50


def start_results_worker(broker: dramatiq.Broker, store: Store, hooks: HookEmitter) -> dramatiq.Worker:
    """Declare the `apply_result` actor on `broker` and start a worker consuming only the results queue.

    A result is acknowledged only after its transaction committed; if the database is
    unreachable the actor raises and Dramatiq redelivers it later. `hooks` are told `after_applied`
    on the worker's thread (the emitter logs a hook's failure, so it never turns into a redelivery).
    """

    def apply_result(data: dict[str, Any]) -> None:
        result = result_from_args(data)
        applied = store.write_sync(outcomes.apply_result, result)
        logger.info(
            "job=%s task=%s attempt=%s result=%s applied=%s",
            result.job_id,
            result.task_id,
            result.attempt,
            result.status,
            applied is not None,
        )
        if applied is not None:
            hooks.after_applied(applied)

    if APPLY_RESULT not in broker.actors:
        dramatiq.actor(
            broker=broker,
            actor_name=APPLY_RESULT,
            queue_name=RESULTS_QUEUE,
            max_retries=1000,
            min_backoff=500,
            max_backoff=30_000,
        )(apply_result)
    else:  # a second app on the same in-process broker (tests): rebind the implementation
        broker.actors[APPLY_RESULT].fn = apply_result
    poll_ms = MEMORY_POLL_MS if isinstance(broker, StubBroker) else POLL_MS
    worker = dramatiq.Worker(broker, queues={RESULTS_QUEUE}, worker_threads=2, worker_timeout=poll_ms)
    worker.start()
    return worker
