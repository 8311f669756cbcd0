"""Running a command in its own process group, line by line, under a deadline.

At the deadline the group gets SIGTERM (Echidna then stops its workers and still prints its report), and SIGKILL
after a grace period. Reader threads only queue lines; the caller's `on_line` runs on the calling thread, so a
recipe's progress and output stay on one thread.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

#: Seconds between deadline checks while waiting for output.
POLL_S = 0.1
#: Seconds the streams may stay open after the main process exited (a straggling child) before the group is killed,
#: and after the kill before the streams are abandoned (a process that left the group still holds them).
LINGER_S = 2.0


@dataclass(frozen=True)
class Finished:
    """How a run ended."""

    returncode: int | None
    #: the deadline passed and the group was signalled
    timed_out: bool
    #: SIGTERM was not enough: the group was killed
    killed: bool


def _read(stream: IO[str], name: str, lines: queue.Queue) -> None:
    for line in stream:
        lines.put((name, line.rstrip("\r\n")))
    lines.put((name, None))


def _drain(lines: queue.Queue, on_line: Callable[[str, str], None]) -> None:
    while True:
        try:
            name, line = lines.get_nowait()
        except queue.Empty:
            return
        if line is not None:
            on_line(name, line)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is already gone
        os.killpg(process.pid, sig)


class _Watch:
    """The deadline, the grace period and the linger timer of one run."""

    def __init__(self, process: subprocess.Popen, stop_at: float, grace_s: float) -> None:
        self.process, self.stop_at, self.grace_s = process, stop_at, grace_s
        self.terminated_at: float | None = None
        self.exited_at: float | None = None
        self.killed_at: float | None = None

    @property
    def killed(self) -> bool:
        return self.killed_at is not None

    def tick(self) -> bool:
        """Signal what is due; False once the streams should be abandoned."""
        now = time.monotonic()
        if self.terminated_at is None and now >= self.stop_at:
            _signal_group(self.process, signal.SIGTERM)
            self.terminated_at = now
        elif self.terminated_at is not None and not self.killed and now >= self.terminated_at + self.grace_s:
            self.kill(now)
        if self.exited_at is None and self.process.poll() is not None:
            self.exited_at = now
        elif self.exited_at is not None and not self.killed and now >= self.exited_at + LINGER_S:
            self.kill(now)
        return not (self.killed_at is not None and now >= self.killed_at + LINGER_S)

    def kill(self, now: float) -> None:
        _signal_group(self.process, signal.SIGKILL)
        self.killed_at = now


def run_lines(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    stop_at: float,
    on_line: Callable[[str, str], None],
    grace_s: float = 5.0,
) -> Finished:
    """Run `argv`, calling `on_line(stream, line)` for each stdout/stderr line, until it ends or is killed.

    `stop_at` is a `time.monotonic()` value. The process group never outlives this call.

    Raises:
        OSError: the command cannot be started.
    """
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    lines: queue.Queue = queue.Queue()
    readers = [
        threading.Thread(target=_read, args=(stream, name, lines), daemon=True)
        for stream, name in ((process.stdout, "stdout"), (process.stderr, "stderr"))
    ]
    for reader in readers:
        reader.start()
    watch, open_streams = _Watch(process, stop_at, grace_s), len(readers)
    try:
        while open_streams and watch.tick():
            try:
                name, line = lines.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if line is None:
                open_streams -= 1
            else:
                on_line(name, line)
        _drain(lines, on_line)  # what was read before the streams were abandoned
        returncode = process.wait()
    finally:
        _signal_group(process, signal.SIGKILL)  # no stragglers, whatever happened above
        process.wait()
        for reader in readers:
            reader.join(timeout=1.0)
    return Finished(returncode, watch.terminated_at is not None, watch.killed)
