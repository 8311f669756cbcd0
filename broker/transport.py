"""Sending typed messages through Dramatiq without importing the other side's actors."""

from __future__ import annotations

import dramatiq

from broker.messages import TaskMessage, TaskResult, from_dict, to_dict
from broker.queues import APPLY_RESULT, PRIORITIES, RESULTS_QUEUE, run_task_actor

#: RabbitMQ message priority per job priority (the broker is declared with max_priority=10).
_BROKER_PRIORITY = {"high": 9, "normal": 5, "low": 1}


def declare_queues(broker: dramatiq.Broker, queues: list[str]) -> None:
    """Declare `queues` on `broker` (idempotent)."""
    for queue in queues:
        broker.declare_queue(queue)


def send_task(broker: dramatiq.Broker, message: TaskMessage, queue: str, priority: str = "normal") -> None:
    """Enqueue one task attempt on `queue`."""
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}")
    options = {"broker_priority": _BROKER_PRIORITY[priority]}
    broker.enqueue(dramatiq.Message(queue, run_task_actor(priority), (to_dict(message),), {}, options))


def send_result(broker: dramatiq.Broker, result: TaskResult) -> None:
    """Report a task attempt's outcome to the controller."""
    broker.enqueue(dramatiq.Message(RESULTS_QUEUE, APPLY_RESULT, (to_dict(result),), {}, {}))


def task_from_args(data: dict) -> TaskMessage:
    """Decode the argument of a `run_task` message."""
    message = from_dict(data)
    if not isinstance(message, TaskMessage):
        raise TypeError(f"expected a task message, got {type(message).__name__}")
    return message


def result_from_args(data: dict) -> TaskResult:
    """Decode the argument of an `apply_result` message."""
    message = from_dict(data)
    if not isinstance(message, TaskResult):
        raise TypeError(f"expected a task result, got {type(message).__name__}")
    return message
