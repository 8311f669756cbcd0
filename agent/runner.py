"""The runner protocol: run one task's command as a subprocess and turn what it did into a result.

The command runs in its own session (process group), so a timeout or a cancel kills it
and everything it started. With a sandbox cell (agent/sandbox.py) it runs inside bubblewrap instead,
sees only the runner files at fixed paths and an allow-listed environment, and everything it
started dies with the sandbox's pid namespace. Output lines and `COMPUTALOT_PROGRESS:{json}` lines are
handed to callbacks while it runs; the last 10 KB also travel with the result.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from agent.sandbox import TASK, Cell, Started, limit_breach, wait_status
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
    #: run inside this sandbox cell (None: directly, as the agent's user, with the agent's environment)
    sandbox: Cell | None = None
    #: where every output line is written (default: `output.log` in `scratch`)
    log: Path | None = None


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
            process = self._start(paths)
        except OSError as exc:
            error = f"could not start {self.spec.command[0]!r}: {exc}"
            return self._outcome(TaskStatus.FAILED, None, None, error, "command_not_found", started)
        except ValueError as exc:  # e.g. an embedded NUL: no process can be given this command
            error = f"could not start the command {list(self.spec.command)!r}: {exc}"
            return self._outcome(TaskStatus.FAILED, None, None, error, "invalid_command", started)
        proc = process.proc
        readers = [
            threading.Thread(target=self._read, args=(proc.stdout, "stdout"), daemon=True),
            threading.Thread(target=self._read, args=(proc.stderr, "stderr"), daemon=True),
        ]
        for reader in readers:
            reader.start()
        verdict = self._supervise(process, started)
        # Background processes the command left behind die with it (and release its pipes).
        process.kill()
        for reader in readers:
            reader.join(timeout=5)
        self._flush()
        code = proc.returncode if self.spec.sandbox is None else wait_status(proc.returncode)
        return self._judge(verdict, code, paths["result"], started)

    def _start(self, paths: dict[str, Path]) -> Started:
        if self.spec.sandbox is not None:
            return self.spec.sandbox.start(self.spec.command, self._protocol_env(paths))
        proc = subprocess.Popen(
            list(self.spec.command),
            cwd=self.spec.cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self._protocol_env(paths)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        return Started(proc, None)

    def _prepare(self) -> dict[str, Path]:
        scratch = self.spec.scratch
        artifacts = scratch / "artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        payload = scratch / "payload.json"
        payload.write_text(json.dumps(self.spec.payload))
        result = scratch / "result.json"
        result.unlink(missing_ok=True)
        self._log = (self.spec.log or scratch / LOG_NAME).open("w", encoding="utf-8")
        return {"payload": payload, "result": result, "artifacts": artifacts}

    def _protocol_env(self, paths: dict[str, Path]) -> dict[str, str]:
        """The task's own variables and the runner files (at their fixed paths inside a sandbox)."""
        inside = {name: PurePosixPath(TASK) / path.relative_to(self.spec.scratch) for name, path in paths.items()}
        where = paths if self.spec.sandbox is None else inside
        return {
            **self.spec.env,
            "COMPUTALOT_TASK_PAYLOAD": str(where["payload"]),
            "COMPUTALOT_TASK_RESULT": str(where["result"]),
            "COMPUTALOT_ARTIFACT_DIR": str(where["artifacts"]),
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

    def _supervise(self, process: Started, started: float) -> str:
        deadline = started + self.spec.timeout_s
        while True:
            try:
                process.proc.wait(timeout=FLUSH_INTERVAL_S)
                return "exited"
            except subprocess.TimeoutExpired:
                pass
            self._flush()
            if self._cancelled.is_set():
                self._kill(process)
                return "cancelled"
            if time.time() >= deadline:
                self._kill(process)
                return "timeout"

    def _kill(self, process: Started) -> None:
        """SIGTERM the command's process group, then SIGKILL what is left after the grace period."""
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.proc.wait(timeout=self.kill_grace_s)
        # Whether or not the leader is gone, stragglers get no second chance.
        process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.proc.wait(timeout=5.0)

    def _judge(self, verdict: str, code: int | None, result_path: Path, started: float) -> RunOutcome:
        if verdict == "cancelled":
            return self._outcome(TaskStatus.CANCELLED, code, None, "cancelled by the user", "cancelled", started)
        if verdict == "timeout":
            error = f"timed out after {self.spec.timeout_s:g} s"
            return self._outcome(TaskStatus.FAILED, code, None, error, "timeout", started)
        if code != 0:
            breach = limit_breach(self.spec.sandbox.limits, code or 0, self.tail.text()) if self.spec.sandbox else None
            error_code, error = breach or ("exit_code", f"command exited with code {code}")
            return self._outcome(TaskStatus.FAILED, code, None, error, error_code, started)
        try:
            text = _read_regular(result_path)
        except OSError:
            return self._outcome(
                TaskStatus.FAILED,
                code,
                None,
                "the command wrote no result file ($COMPUTALOT_TASK_RESULT)",
                "bad_result",
                started,
            )
        try:
            result = json.loads(text)
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


def _read_regular(path: Path) -> bytes:
    """The bytes of a regular file, never following a link (a task must not make the agent read other files).

    Raises:
      OSError: absent, a link, a FIFO or anything but a regular file.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as source:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        return source.read()
