"""Watching real processes from tests: waiting for a condition, liveness of a pid, the host pids of a job's tasks."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout_s: float = 30, interval_s: float = 0.1) -> T:
    """The first truthy value of `predicate()`, polled until `timeout_s`; AssertionError past it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s}s")


def pid_alive(pid: int) -> bool:
    """Whether `pid` runs; a zombie is dead for our purposes (its parent, a killed runner, may not reap it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def job_processes(job_id: str) -> list[int]:
    """Live host pids of a job's task processes, found by the job id in their environment.

    Tasks run sandboxed, in their own pid namespace, so the pids they see are not the host's; the tests run as
    root and read every /proc/PID/environ.
    """
    marker = f"COMPUTALOT_JOB_ID={job_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in found if pid_alive(pid)]
