"""The warm pool: long-lived recipe worker processes, fed one task at a time.

Imports and Numba compilation are paid once per worker, not per task. A task past its
timeout, or cancelled, kills its worker (a replacement starts on the next task); a worker
that crashed, grew past the memory limit or ran many tasks is replaced too.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from agent.recipe_protocol import Done, Failed, Output, Progress, Publish, Published, RunRecipe, decode, encode
from agent.recipe_worker import serve
from agent.runner import RunOutcome, Tail
from broker.statuses import TaskStatus

logger = logging.getLogger(__name__)

#: Seconds between checks of the deadline and the cancel flag while a recipe runs.
POLL_S = 0.2


@dataclass
class Worker:
    """One warm process serving one recipe."""

    recipe: str
    process: multiprocessing.process.BaseProcess
    conn: Connection
    tasks_run: int = 0

    @property
    def pid(self) -> int:
        return self.process.pid or 0

    def rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except (FileNotFoundError, ValueError):
            pass
        return 0.0

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


@dataclass
class PoolLimits:
    max_rss_mb: float = 4096
    max_tasks: int = 1000


@dataclass
class RecipeRequest:
    """What one recipe task needs besides its payload."""

    payload: dict[str, Any]
    timeout_s: float
    output_dir: Path
    inputs: dict[str, str] = field(default_factory=dict)
    #: where every output line is also written (uploaded as the task's full output)
    log_path: Path | None = None


class RecipePool:
    """Warm workers per recipe; thread-safe (each Dramatiq worker thread borrows one worker at a time)."""

    def __init__(self, modules: dict[str, str], limits: PoolLimits | None = None) -> None:
        self.modules = modules
        self.limits = limits or PoolLimits()
        self._idle: dict[str, list[Worker]] = {}
        self._lock = threading.Lock()
        self._ctx = multiprocessing.get_context("spawn")  # the agent has threads: never fork it
        self.spawned = 0

    def acquire(self, recipe: str) -> Worker:
        """An idle warm worker of `recipe`, or a new one."""
        with self._lock:
            idle = self._idle.setdefault(recipe, [])
            while idle:
                worker = idle.pop()
                if worker.process.is_alive():
                    return worker
                worker.kill()
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=serve, args=(child, self.modules[recipe]), daemon=True, name=f"recipe-{recipe}"
        )
        process.start()
        child.close()
        self.spawned += 1
        logger.info("recipe=%s started warm worker pid=%s", recipe, process.pid)
        return Worker(recipe, process, parent)

    def release(self, worker: Worker, healthy: bool) -> None:
        """Give a worker back, or replace it if it is unhealthy, too big, or worn out."""
        too_big = worker.rss_mb() > self.limits.max_rss_mb
        if not healthy or too_big or worker.tasks_run >= self.limits.max_tasks or not worker.process.is_alive():
            if too_big:
                logger.info("recipe=%s worker pid=%s recycled at %.0f MB", worker.recipe, worker.pid, worker.rss_mb())
            worker.kill()
            return
        with self._lock:
            self._idle.setdefault(worker.recipe, []).append(worker)

    def idle_pids(self, recipe: str) -> list[int]:
        with self._lock:
            return [w.pid for w in self._idle.get(recipe, [])]

    def close(self) -> None:
        with self._lock:
            workers = [w for idle in self._idle.values() for w in idle]
            self._idle.clear()
        for worker in workers:
            worker.kill()


class RecipeRun:
    """One recipe task on a borrowed warm worker; `cancel()` may be called from any thread."""

    def __init__(
        self,
        pool: RecipePool,
        recipe: str,
        request: RecipeRequest,
        on_output: Callable[[str, list[str]], None],
        on_progress: Callable[[dict[str, Any]], None],
        on_publish: Callable[[Path, str], str],
    ) -> None:
        self.pool, self.recipe, self.request = pool, recipe, request
        self.on_output, self.on_progress, self.on_publish = on_output, on_progress, on_publish
        self.latest_progress: dict[str, Any] | None = None
        self.tail = Tail()
        self._cancelled = threading.Event()
        self.worker_pid = 0

    def cancel(self) -> None:
        self._cancelled.set()

    def execute(self) -> RunOutcome:
        started = time.time()
        deadline = time.monotonic() + self.request.timeout_s
        self.request.output_dir.mkdir(parents=True, exist_ok=True)
        worker = self.pool.acquire(self.recipe)
        self.worker_pid = worker.pid
        healthy = False
        try:
            worker.conn.send_bytes(
                encode(
                    RunRecipe(
                        self.request.payload, self.request.timeout_s, str(self.request.output_dir), self.request.inputs
                    )
                )
            )
            outcome, healthy = self._await(worker, deadline, started)
            worker.tasks_run += 1
            return outcome
        except (EOFError, OSError, BrokenPipeError):
            code = worker.process.exitcode
            return self._outcome(
                TaskStatus.FAILED, None, f"the recipe worker died (exit code {code})", "recipe_crashed", started
            )
        finally:
            self.pool.release(worker, healthy)

    def _await(self, worker: Worker, deadline: float, started: float) -> tuple[RunOutcome, bool]:
        while True:
            if self._cancelled.is_set():
                return self._outcome(TaskStatus.CANCELLED, None, "cancelled by the user", "cancelled", started), False
            if time.monotonic() >= deadline:
                error = f"timed out after {self.request.timeout_s:g} s"
                return self._outcome(TaskStatus.FAILED, None, error, "timeout", started), False
            if not worker.conn.poll(POLL_S):
                continue
            frame = decode(worker.conn.recv_bytes())
            if isinstance(frame, Done):
                tail, progress, now = self.tail.text(), self.latest_progress, time.time()
                outcome = RunOutcome(TaskStatus.COMPLETED, 0, frame.result, "", "", tail, started, now, progress)
                return outcome, True
            if isinstance(frame, Failed):
                return self._outcome(TaskStatus.FAILED, None, frame.message, frame.code, started), True
            self._handle(worker, frame)

    def _handle(self, worker: Worker, frame: Any) -> None:
        if isinstance(frame, Progress):
            self.latest_progress = frame.fields
            self.on_progress(frame.fields)
        elif isinstance(frame, Output):
            for line in frame.lines:
                self.tail.add(line)
            if self.request.log_path is not None:
                with self.request.log_path.open("a", encoding="utf-8") as log:
                    log.writelines(line + "\n" for line in frame.lines)
            self.on_output(frame.stream, frame.lines)
        elif isinstance(frame, Publish):
            try:
                answer = Published(artifact_id=self.on_publish(Path(frame.path), frame.filename))
            except Exception as exc:  # the recipe gets the error and decides
                answer = Published(error=str(exc))
            worker.conn.send_bytes(encode(answer))

    def _outcome(self, status: TaskStatus, code: int | None, error: str, error_code: str, started: float) -> RunOutcome:
        return RunOutcome(
            status, code, None, error, error_code, self.tail.text(), started, time.time(), self.latest_progress
        )
