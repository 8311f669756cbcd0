"""Build a Dramatiq broker from a URL: `amqp://`, `redis://` or `memory://`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import dramatiq
from dramatiq.middleware import Middleware

from broker.encoder import MsgpackEncoder
from broker.errors import BrokerConfigError
from broker.queues import RESULTS_QUEUE, task_queues

#: Seconds after which a Redis consumer that stopped heartbeating is presumed dead
#: and its unacknowledged messages are put back on their queues.
REDIS_HEARTBEAT_TIMEOUT_S = 15


def _memory(url: str, middleware: list[Middleware]) -> dramatiq.Broker:
    from dramatiq.brokers.stub import StubBroker

    return StubBroker(middleware=middleware)


def _redis(url: str, middleware: list[Middleware]) -> dramatiq.Broker:
    from dramatiq.brokers.redis import RedisBroker

    # Frequent maintenance (5% of commands, out of Dramatiq's scale of a million) so that a killed
    # agent's unacknowledged messages come back within seconds of its heartbeat timeout, not minutes.
    return RedisBroker(
        url=url,
        middleware=middleware,
        namespace="computalot",
        heartbeat_timeout=REDIS_HEARTBEAT_TIMEOUT_S * 1000,
        maintenance_chance=50_000,
    )


def _rabbitmq(url: str, middleware: list[Middleware]) -> dramatiq.Broker:
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    return RabbitmqBroker(url=url, middleware=middleware, confirm_delivery=True, max_priority=10)


_BUILDERS: dict[str, Callable[[str, list[Middleware]], dramatiq.Broker]] = {
    "amqp": _rabbitmq,
    "amqps": _rabbitmq,
    "redis": _redis,
    "rediss": _redis,
    "memory": _memory,
}


def connect(url: str, middleware: Sequence[Middleware] | None = None) -> dramatiq.Broker:
    """Build the broker named by `url` and declare every Computalot queue on it.

    Parameters:
      url: `amqp://user:pass@host:5672/vhost`, `redis://host:6379/0` or `memory://`.
      middleware: Dramatiq middleware; the defaults without time and age limits when omitted
        (task timeouts are enforced by the agent, per task).

    Raises:
      BrokerConfigError: the scheme is not supported.
    """
    scheme = urlsplit(url).scheme
    if scheme not in _BUILDERS:  # never echo the URL: it may hold a password
        raise BrokerConfigError(f"unsupported broker scheme {scheme!r}; use amqp://, redis:// or memory://")
    dramatiq.set_encoder(MsgpackEncoder())
    if middleware is None:
        middleware = default_middleware()
    broker = _BUILDERS[scheme](url, list(middleware))
    for queue in [RESULTS_QUEUE, *task_queues()]:
        broker.declare_queue(queue)
    return broker


def default_middleware() -> list[Middleware]:
    """Dramatiq's default middleware minus AgeLimit and TimeLimit.

    A task may legitimately wait for hours behind others and run for up to a day; the
    agent enforces each task's own `timeout_s` by killing its process group.
    """
    from dramatiq.middleware import AgeLimit, TimeLimit
    from dramatiq.middleware import default_middleware as defaults

    return [m() for m in defaults if m not in (AgeLimit, TimeLimit)]


def is_memory(url: str) -> bool:
    """True for the embedded, in-process broker (its queues do not survive a restart)."""
    return urlsplit(url).scheme == "memory"
