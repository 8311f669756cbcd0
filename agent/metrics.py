"""What an agent has run since it started, reported in every heartbeat (the controller exports it)."""

from __future__ import annotations

import threading
from typing import Any

from broker.messages import TaskResult
from broker.statuses import TaskStatus


class TaskStats:
    """Counters of finished task attempts, updated by the worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tasks_run = 0
        self.tasks_failed = 0
        self.task_seconds = 0.0

    def record(self, result: TaskResult) -> None:
        """Count one finished attempt (any outcome) and the seconds it ran."""
        seconds = max(0.0, result.finished_at - result.started_at) if result.started_at else 0.0
        with self._lock:
            self.tasks_run += 1
            self.tasks_failed += result.status != TaskStatus.COMPLETED
            self.task_seconds += seconds

    def snapshot(self) -> dict[str, Any]:
        """The heartbeat fields `tasks_run`, `tasks_failed` and `task_seconds`."""
        with self._lock:
            return {"tasks_run": self.tasks_run, "tasks_failed": self.tasks_failed, "task_seconds": self.task_seconds}
