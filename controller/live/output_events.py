"""The `output` events of running tasks: the lines received since the hub's last flush, capped.

A chatty task prints far more than a stream can show, so each flush keeps only the newest lines (at most
`MAX_LINES` and `MAX_BYTES`, each line cut at `MAX_LINE_CHARS`) and counts the rest in `dropped`. The whole
last 10 KB still travels with the task's result (`GET /api/v1/jobs/:id/output`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

#: Lines one output event carries at most.
MAX_LINES = 200
#: UTF-8 bytes of lines one output event carries at most.
MAX_BYTES = 16 * 1024
#: Characters kept of one very long line.
MAX_LINE_CHARS = 2000


class PendingOutput:
    """Lines of one task attempt received since the last flush; only the newest are kept."""

    def __init__(self) -> None:
        self._lines: deque[str] = deque(maxlen=MAX_LINES)
        self._received = 0

    def add(self, lines: Sequence[str]) -> None:
        self._received += len(lines)
        self._lines.extend(lines[-MAX_LINES:])

    def take(self) -> dict[str, Any] | None:
        """`{"lines": [...], "dropped": n}` for an output event, and start over; None when nothing came."""
        if not self._received:
            return None
        kept: list[str] = []
        size = 0
        for line in reversed(self._lines):
            line = line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + "…"
            size += len(line.encode()) + 1
            if size > MAX_BYTES and kept:
                break
            kept.append(line)
        kept.reverse()
        event = {"lines": kept, "dropped": self._received - len(kept)}
        self._lines.clear()
        self._received = 0
        return event
