"""The runner protocol: run one task's command as a subprocess and turn what it did into a result.

The command runs in its own session (process group), so a timeout or a cancel kills it
and everything it started. Output lines and `COMPUTALOT_PROGRESS:{json}` lines are
handed to callbacks while it runs; the last 10 KB also travel with the result.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from broker.output import TAIL_BYTES, last_bytes
from broker.statuses import TaskStatus

PROGRESS_PREFIX = "COMPUTALOT_PROGRESS:"
#: File of the scratch dir receiving every output line (stdout and stderr, in arrival order).
LOG_NAME = "output.log"
#: Seconds between deliveries of buffered output lines.
FLUSH_INTERVAL_S = 0.2


@dataclass(frozen=True)
class RunSpec:
    """What to run and where."""

    command: tuple[str, ...]
    cwd: Path
    scratch: Path
    payload: dict[str, Any]
    timeout_s: float
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOutcome:
    """What happened: `completed`, `failed` or `cancelled`, with the user-facing error."""

    status: TaskStatus
    exit_code: int | None
    result: Any
    error: str
    error_code: str
    output_tail: str
    started_at: float
    finished_at: float
    #: the last progress the command reported (it also travels with the result, so it is never lost)
    progress: dict[str, Any] | None = None


class Tail:
    """The last `limit` bytes (UTF-8) of combined output."""

    def __init__(self, limit: int = TAIL_BYTES) -> None:
        self.limit = limit
        self._lines: deque[str] = deque()
        self._size = 0
        self._lock = threading.Lock()

    def add(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
            self._size += len(line.encode()) + 1
            while self._size > self.limit and len(self._lines) > 1:
                self._size -= len(self._lines.popleft().encode()) + 1

    def text(self) -> str:
        with self._lock:
            return last_bytes("".join(line + "\n" for line in self._lines), self.limit)


class Run:
    """One running command; `cancel()` may be called from any thread."""

    def __init__(
        self,
        spec: RunSpec,
        on_output: Callable[[str, list[str]], None],
        on_progress: Callable[[dict[str, Any]], None],
        kill_grace_s: float = 2.0,
    ) -> None:
        self.spec = spec
        self.on_output = on_output
        self.on_progress = on_progress
        self.kill_grace_s = kill_grace_s
        self.latest_progress: dict[str, Any] | None = None
        self.tail = Tail()
        self._cancelled = threading.Event()
        self._pending: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._pending_lock = threading.Lock()
        self._log: IO[str] | None = None

    def cancel(self) -> None:
        self._cancelled.set()

    def execute(self) -> RunOutcome:
        """Run the command to completion, timeout or cancellation."""
        paths = self._prepare()
        started = time.time()
        try:
            proc = subprocess.Popen(
                list(self.spec.command),
                cwd=self.spec.cwd,
                env=self._env(paths),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            error = f"could not start {self.spec.command[0]!r}: {exc}"
            return self._outcome(TaskStatus.FAILED, None, None, error, "command_not_found", started)
        except ValueError as exc:  # e.g. an embedded NUL: no process can be given this command
            error = f"could not start the command {list(self.spec.command)!r}: {exc}"
            return self._outcome(TaskStatus.FAILED, None, None, error, "invalid_command", started)
        readers = [
            threading.Thread(target=self._read, args=(proc.stdout, "stdout"), daemon=True),
            threading.Thread(target=self._read, args=(proc.stderr, "stderr"), daemon=True),
        ]
        for reader in readers:
            reader.start()
        verdict = self._supervise(proc, started)
        # Background processes the command left behind die with it (and release its pipes).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        for reader in readers:
            reader.join(timeout=5)
        self._flush()
        return self._judge(verdict, proc.returncode, paths["result"], started)

    def _prepare(self) -> dict[str, Path]:
        scratch = self.spec.scratch
        artifacts = scratch / "artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        payload = scratch / "payload.json"
        payload.write_text(json.dumps(self.spec.payload))
        result = scratch / "result.json"
        result.unlink(missing_ok=True)
        self._log = (scratch / LOG_NAME).open("w", encoding="utf-8")
        return {"payload": payload, "result": result, "artifacts": artifacts}

    def _env(self, paths: dict[str, Path]) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            **self.spec.env,
            "COMPUTALOT_TASK_PAYLOAD": str(paths["payload"]),
            "COMPUTALOT_TASK_RESULT": str(paths["result"]),
            "COMPUTALOT_ARTIFACT_DIR": str(paths["artifacts"]),
        }

    def _read(self, pipe: IO[bytes], stream: str) -> None:
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            self.tail.add(line)
            if stream == "stdout" and line.startswith(PROGRESS_PREFIX):
                self._progress(line[len(PROGRESS_PREFIX) :])
            with self._pending_lock:
                self._pending[stream].append(line)
                if self._log is not None:
                    self._log.write(line + "\n")
        pipe.close()

    def _progress(self, text: str) -> None:
        try:
            progress = json.loads(text)
        except ValueError:
            return
        if isinstance(progress, dict):
            self.latest_progress = progress
            self.on_progress(progress)

    def _flush(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, {"stdout": [], "stderr": []}
        for stream, lines in pending.items():
            if lines:
                self.on_output(stream, lines)

    def _supervise(self, proc: subprocess.Popen[bytes], started: float) -> str:
        deadline = started + self.spec.timeout_s
        while True:
            try:
                proc.wait(timeout=FLUSH_INTERVAL_S)
                return "exited"
            except subprocess.TimeoutExpired:
                pass
            self._flush()
            if self._cancelled.is_set():
                self._kill(proc)
                return "cancelled"
            if time.time() >= deadline:
                self._kill(proc)
                return "timeout"

    def _kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGTERM the whole process group, then SIGKILL what is left after the grace period."""
        for sig, wait_s in ((signal.SIGTERM, self.kill_grace_s), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                continue
            if sig == signal.SIGTERM:
                # The leader is gone; stragglers in its group get no second chance.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                return

    def _judge(self, verdict: str, code: int | None, result_path: Path, started: float) -> RunOutcome:
        if verdict == "cancelled":
            return self._outcome(TaskStatus.CANCELLED, code, None, "cancelled by the user", "cancelled", started)
        if verdict == "timeout":
            error = f"timed out after {self.spec.timeout_s:g} s"
            return self._outcome(TaskStatus.FAILED, code, None, error, "timeout", started)
        if code != 0:
            error = f"command exited with code {code}"
            return self._outcome(TaskStatus.FAILED, code, None, error, "exit_code", started)
        if not result_path.exists():
            return self._outcome(
                TaskStatus.FAILED,
                code,
                None,
                "the command wrote no result file ($COMPUTALOT_TASK_RESULT)",
                "bad_result",
                started,
            )
        try:
            result = json.loads(result_path.read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            return self._outcome(
                TaskStatus.FAILED, code, None, f"the result file is not valid JSON: {exc}", "bad_result", started
            )
        return self._outcome(TaskStatus.COMPLETED, code, result, "", "", started)

    def _outcome(
        self, status: TaskStatus, code: int | None, result: Any, error: str, error_code: str, started: float
    ) -> RunOutcome:
        with self._pending_lock:
            if self._log is not None:
                self._log.close()
                self._log = None
        return RunOutcome(
            status, code, result, error, error_code, self.tail.text(), started, time.time(), self.latest_progress
        )
