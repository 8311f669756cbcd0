"""Plain-text and rich renderings of API answers for the CLI; pure functions, no I/O but `echo_*`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

#: Task statuses that count as done in the `done/total` column.
_DONE = ("completed", "failed", "cancelled")
#: Borderless, flush-left tables that copy and grep well.
_PLAIN: dict[str, Any] = {"box": None, "pad_edge": False, "caption_justify": "left"}


def job_id_of(job: dict[str, Any]) -> str:
    """The job's id, whether the server names it `job_id` or `id`."""
    return str(job.get("job_id") or job.get("id") or "")


def when(value: Any) -> str:
    """A timestamp (ISO text or epoch seconds) as `YYYY-MM-DD HH:MM:SS`; '' when unset."""
    if value is None or value == "":
        return ""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")
    text = str(value).replace("T", " ")
    return text[:19]


def task_counts(job: dict[str, Any]) -> tuple[int, int | None]:
    """(finished tasks, total tasks or None) from the job's `counts` and `total_tasks`."""
    counts = job.get("counts") or job.get("task_counts") or {}
    numbers = {k: v for k, v in counts.items() if isinstance(v, int)} if isinstance(counts, dict) else {}
    total = job.get("total_tasks", job.get("task_count"))
    if not isinstance(total, int):
        total = sum(numbers.values()) if numbers else None
    return sum(numbers.get(s, 0) for s in _DONE), total


def progress(job: dict[str, Any]) -> str:
    """`done/total`, or '' when the job carries no counts."""
    done, total = task_counts(job)
    return "" if total is None else f"{done}/{total}"


def kind(job: dict[str, Any]) -> str:
    """The job's recipe (as `recipe:name`) or type."""
    return f"recipe:{job['recipe']}" if job.get("recipe") else str(job.get("type") or "")


def jobs_table(jobs: Iterable[dict[str, Any]], next_before: str | None = None) -> Table:
    """The `computalot jobs` table, captioned with the next page's cursor when there is one."""
    caption = f"more: --before {next_before}" if next_before else None
    table = Table("id", "status", "type/recipe", "project", "done/total", "created", **_PLAIN, caption=caption)
    table.columns[0].no_wrap = True
    for job in jobs:
        cells = (job_id_of(job), job.get("status", ""), kind(job), job.get("project") or "", progress(job))
        table.add_row(*map(str, cells), when(job.get("created_at")))
    return table


def job_lines(job: dict[str, Any]) -> list[str]:
    """The `computalot job` summary, one `label  value` line per field that is set."""
    counts = job.get("counts")
    counts = counts if isinstance(counts, dict) else {}
    breakdown = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    tasks = f"{progress(job)} done ({breakdown})" if breakdown else progress(job)
    cost = job.get("cost_usd")
    rows = [
        ("job", job_id_of(job)),
        ("status", job.get("status")),
        ("type", kind(job)),
        ("project", job.get("project")),
        ("tasks", tasks),
        ("created", when(job.get("created_at"))),
        ("started", when(job.get("started_at"))),
        ("finished", when(job.get("finished_at"))),
        ("cost", f"${cost}" if cost is not None else ""),
        ("tags", ", ".join(job.get("tags") or [])),
        ("error", job.get("error")),
        ("recommended action", job.get("recommended_action")),
    ]
    return [f"{label + ':':<20}{value}" for label, value in rows if value not in (None, "")]


def results_lines(results: dict[str, Any]) -> list[str]:
    """The `computalot results` summary: status line, counts, aggregate result and failed tasks."""
    summary = results.get("summary") or {}
    lines = [
        f"job {results.get('job_id', '')}: {results.get('status', '')} (completeness {results.get('completeness')})"
    ]
    if summary:
        counts = ", ".join(f"{k} {summary[k]}" for k in ("total", "completed", "failed", "cancelled") if k in summary)
        extras = [f"{summary['duration_s']}s" if summary.get("duration_s") is not None else ""]
        extras.append(f"${summary['cost_usd']}" if summary.get("cost_usd") is not None else "")
        lines.append("tasks: " + "; ".join(x for x in [counts, *extras] if x))
    lines += ["aggregate_result:", json.dumps(results.get("aggregate_result"), indent=2)]
    failed = [t for t in results.get("tasks") or [] if t.get("error")]
    if failed:
        lines += ["failed tasks:", *(f"  #{t.get('index')}: {t['error']}" for t in failed)]
    return lines


def push_lines(name: str, pushed: dict[str, Any]) -> list[str]:
    """The `computalot push` summary: revision, size, hash, diff and whether it was published."""
    files = pushed.get("files")
    n_files = len(files) if isinstance(files, list) else files
    diff = pushed.get("tarball_diff") or {}
    changes = {k: len(v) if isinstance(v, list) else v for k, v in diff.items()} if isinstance(diff, dict) else {}
    lines = [
        f"pushed {name} revision {pushed.get('revision')}: {n_files} files, {pushed.get('size_bytes')} bytes",
        f"content_hash: {pushed.get('content_hash')}",
    ]
    if changes:
        lines.append("changes: " + ", ".join(f"{k} {v}" for k, v in changes.items()))
    if "published" in pushed:
        lines.append(f"published: {'yes' if pushed['published'] else 'no (identical content)'}")
    return lines


def projects_table(projects: Iterable[dict[str, Any]]) -> Table:
    """The `computalot projects` table."""
    table = Table("name", "revision", "content hash", "description", "created", **_PLAIN)
    for p in projects:
        revision = p.get("active_revision", p.get("revision"))
        cells = (
            p.get("name", ""),
            "" if revision is None else revision,
            str(p.get("content_hash") or "").split(":")[-1][:12],
        )
        table.add_row(*map(str, cells), str(p.get("description") or ""), when(p.get("created_at")))
    return table


def recipes_table(recipes: Iterable[dict[str, Any]]) -> Table:
    """The `computalot recipes` table."""
    table = Table("name", "operations", "description", **_PLAIN)
    for r in recipes:
        table.add_row(str(r.get("name", "")), ", ".join(r.get("operations") or []), str(r.get("description") or ""))
    return table


def echo_json(data: Any) -> None:
    """Print `data` as indented JSON."""
    click.echo(json.dumps(data, indent=2))


def echo_lines(lines: Iterable[str]) -> None:
    """Print lines of text."""
    for line in lines:
        click.echo(line)


def echo_table(table: Table) -> None:
    """Print a rich table; wide when stdout is not a terminal so ids never wrap."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    console.print(table)
