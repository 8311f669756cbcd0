"""Databases of the release before migrations, holding jobs written the way that release wrote them."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import peewee as pw

from controller.jobs.dispatcher import job_queue
from controller.jobs.models import Job

#: The frozen SQLite schema of the release before migrations.
PREVIOUS_RELEASE_SQL = Path(__file__).with_name("previous_release.sqlite.sql")
#: A recipe queue key longer than `job.profile`'s 16 characters.
LONG_QUEUE_KEY = "lightgbm_train.echidna.sbf"


def previous_release_statements() -> list[str]:
    """The fixture's statements, without comments or the trailing semicolons."""
    lines = [line for line in PREVIOUS_RELEASE_SQL.read_text().splitlines() if not line.startswith("--")]
    return [statement.strip().rstrip(";") for statement in "\n".join(lines).split(";\n") if statement.strip()]


def previous_release_sqlite(path: Path) -> str:
    """Create at `path` the SQLite database the release before migrations made; return its URL."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executescript(PREVIOUS_RELEASE_SQL.read_text())
    return f"sqlite:///{path}"


def _insert(db: pw.Database, table: str, row: dict[str, Any]) -> None:
    pw.Table(table, tuple(row)).bind(db).insert(row).execute()


def insert_old_jobs(db: pw.Database) -> None:
    """An account, a recipe job with its queue key in `profile` (as it was) and a project job at a preset."""
    _insert(db, "account", {"id": "acc_old", "name": "old", "role": "member", "webhook_secret": "s", "created_at": 1.0})
    common = {"account_id": "acc_old", "status": "queued", "priority": "normal", "spec": "{}", "workdir": "."}
    common |= {"task_count": 1, "dispatch_pending": True, "finished_count": 0, "created_at": 1.0}
    recipe = {"id": "job_recipe", "recipe": "echidna", "type": "recipe", "runtime": "recipe"}
    process = {"id": "job_process", "recipe": "", "type": "structured_runner", "runtime": "process"}
    _insert(db, "job", {**common, **recipe, "revision_hash": "", "profile": "echidna.sbf"})
    _insert(db, "job", {**common, **process, "revision_hash": "sha256:x", "profile": "cpu-large"})


def assert_jobs_migrated() -> None:
    """The recipe job's key moved to `queue_key`, the project job kept its preset, and the models use the column."""
    recipe, process = Job.get_by_id("job_recipe"), Job.get_by_id("job_process")
    assert (recipe.queue_key, recipe.profile) == ("echidna.sbf", "")
    assert job_queue(recipe) == "computalot.recipes.echidna.sbf.normal"
    assert (process.queue_key, process.profile) == ("", "cpu-large")
    assert job_queue(process) == "computalot.tasks.cpu-large.normal"
    new = {"account": "acc_old", "status": "queued", "spec": {}, "task_count": 1, "created_at": 2.0}
    Job.create(id="job_new", runtime="recipe", profile="", queue_key=LONG_QUEUE_KEY, **new)
    assert job_queue(Job.get_by_id("job_new")) == f"computalot.recipes.{LONG_QUEUE_KEY}.normal"
