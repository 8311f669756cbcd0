"""`computalot watch`: a live progress bar of a job's tasks, its latest progress and output, from its SSE stream."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .streams import StreamEvent

#: Task states that count as done on the bar.
_DONE = frozenset({"completed", "failed", "cancelled"})


class JobView:
    """What the watch shows, updated one event at a time (no I/O: `render` returns text)."""

    def __init__(self, job_id: str, total: int) -> None:
        self.job_id, self.total = job_id, total
        self.status = "queued"
        self.done: set[str] = set()
        self.progress: dict[str, Any] = {}
        self.result: dict[str, Any] | None = None

    def apply(self, event: StreamEvent) -> list[str]:
        """Take one event; returns the output lines it brought, ready to print."""
        data = event.data.get("data") if isinstance(event.data, dict) else None
        data = data if isinstance(data, dict) else {}
        if event.event == "status":
            self.status = data.get("status", self.status)
            self.total = data.get("task_count", self.total)
        elif event.event == "task" and data.get("status") in _DONE:
            self.done.add(str(data.get("task_id")))
        elif event.event == "progress":
            self.progress = data.get("progress") or {}
        elif event.event == "result":
            self.result = data
        elif event.event == "output":
            return self._lines(data)
        return []

    def description(self) -> str:
        fields = " ".join(f"{k}={_short(v)}" for k, v in self.progress.items())
        return f"{self.job_id} {self.status}" + (f"  {fields}" if fields else "")

    def _lines(self, data: dict[str, Any]) -> list[str]:
        prefix = ""
        if self.total > 1:  # task ids end with the task's index (`tsk_<job>_<index>`)
            prefix = f"[{str(data.get('task_id', '')).rsplit('_', 1)[-1]}] "
        lines = [prefix + line for line in data.get("lines") or []]
        if data.get("dropped"):
            lines.insert(0, f"{prefix}… {data['dropped']} lines not shown")
        return lines


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:39] + "…"


def watch(events: Iterable[StreamEvent], view: JobView, console: Console) -> JobView:
    """Draw the bar and print output lines above it until the stream ends."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(view.description(), total=view.total or None)
        for event in events:
            for line in view.apply(event):
                bar.console.print(escape(line), highlight=False)
            bar.update(task, description=view.description(), completed=len(view.done), total=view.total or None)
            if event.event == "end":
                break
    return view
