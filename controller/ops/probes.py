"""Cheap real calls to the broker: is it up (readiness), how many messages wait per queue (metrics).

Broker clients block (redis-py, pika), and a broker that went away can hang a call, so every call runs on
one thread of the probe's own with a deadline; while a call is stuck, later ones answer "down" at once
instead of piling up behind it.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any, TypeVar

import dramatiq

from broker.queues import RESULTS_QUEUE, task_queues

if TYPE_CHECKING:
    from dramatiq.brokers.rabbitmq import RabbitmqBroker
    from dramatiq.brokers.redis import RedisBroker

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds a probe call may take before the broker counts as down.
TIMEOUT_S = 2.0


def broker_kind(broker: dramatiq.Broker) -> str:
    """`redis`, `rabbitmq` or `memory` (Dramatiq's StubBroker and anything else in-process)."""
    name = type(broker).__name__
    return {"RedisBroker": "redis", "RabbitmqBroker": "rabbitmq"}.get(name, "memory")


class BrokerProbe:
    """Pings the broker and reads queue depths through its own client connection."""

    def __init__(self, broker: dramatiq.Broker, timeout_s: float = TIMEOUT_S) -> None:
        self.broker = broker
        self.kind = broker_kind(broker)
        self.timeout_s = timeout_s
        self.queues = [RESULTS_QUEUE, *task_queues()]
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="broker-probe")
        self._pending: Future[Any] | None = None
        self._amqp: Any = None  # pika BlockingConnection, used only on the probe thread

    async def ping(self) -> bool:
        """Whether the broker answers a trivial request within the deadline."""
        if self.kind == "memory":
            return True
        return await asyncio.get_running_loop().run_in_executor(None, self._call_bool, self._ping)

    def depths(self) -> dict[str, int]:
        """Messages waiting per queue; empty when the broker does not answer (blocks up to the deadline)."""
        if self.kind == "memory":
            return {q: self.broker.queues[q].qsize() for q in self.queues if q in getattr(self.broker, "queues", {})}
        try:
            return self._call(self._depths)
        except Exception as exc:
            logger.debug("queue depths unavailable: %r", exc)
            return {}

    def close(self) -> None:
        if self._amqp is not None:
            self._thread.submit(self._close_amqp)
        self._thread.shutdown(wait=False, cancel_futures=True)

    # -- calls on the probe thread ---------------------------------------------------------------------------

    def _call(self, fn: Callable[[], T]) -> T:
        if self._pending is not None and not self._pending.done():
            raise TimeoutError("an earlier broker call is still waiting for an answer")
        self._pending = future = self._thread.submit(fn)
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            raise TimeoutError(f"the broker did not answer within {self.timeout_s}s") from None

    def _call_bool(self, fn: Callable[[], Any]) -> bool:
        try:
            self._call(fn)
            return True
        except Exception as exc:
            logger.info("broker probe failed: %r", exc)
            return False

    def _redis(self) -> RedisBroker:
        # imported here: the Redis client is needed only when the broker is Redis
        from dramatiq.brokers.redis import RedisBroker

        assert isinstance(self.broker, RedisBroker)
        return self.broker

    def _rabbitmq(self) -> RabbitmqBroker:
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        assert isinstance(self.broker, RabbitmqBroker)
        return self.broker

    def _ping(self) -> None:
        if self.kind == "redis":
            self._redis().client.ping()
        else:
            self._connection().process_data_events(time_limit=0)

    def _depths(self) -> dict[str, int]:
        if self.kind == "redis":
            broker = self._redis()
            pipe = broker.client.pipeline(transaction=False)
            for queue in self.queues:
                pipe.llen(f"{broker.namespace}:{queue}")
            return dict(zip(self.queues, pipe.execute(), strict=True))
        channel = self._connection().channel()
        try:
            return {q: channel.queue_declare(queue=q, passive=True).method.message_count for q in self.queues}
        finally:
            if channel.is_open:
                channel.close()

    def _connection(self) -> Any:
        """The probe's own AMQP connection (pika connections belong to one thread), reopened when lost."""
        import pika

        if self._amqp is not None and not self._amqp.is_open:
            self._close_amqp()
        if self._amqp is None:
            configured = self._rabbitmq().parameters
            # A copy, so the broker's own connections keep their settings; the first node of a cluster list.
            params = copy.deepcopy(configured[0] if isinstance(configured, list) else configured)
            params.socket_timeout = params.blocked_connection_timeout = self.timeout_s
            params.connection_attempts, params.retry_delay = 1, 0
            self._amqp = pika.BlockingConnection(params)
        return self._amqp

    def _close_amqp(self) -> None:
        conn, self._amqp = self._amqp, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
            except Exception:
                logger.debug("closing the probe's AMQP connection failed", exc_info=True)
