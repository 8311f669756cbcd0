"""Starting on a database that lacks migrations: the standalone controller refuses, the embedded one migrates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import peewee as pw
import pytest
from click.testing import CliRunner

from controller import migrations
from controller.app import create_app
from controller.cli import main as controller_main
from controller.core.db import connect
from controller.core.settings import Settings
from controller.core.web import STORE
from controller.migrations.history import TABLE as HISTORY
from controller.schema import open_database
from tests.controller.migrations.support import assert_jobs_migrated, insert_old_jobs, previous_release_sqlite


@pytest.fixture
def old_data_dir(tmp_path: Path) -> Path:
    """A data dir whose SQLite database was made by the release before migrations."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = connect(previous_release_sqlite(data_dir / "computalot.db"))
    insert_old_jobs(db)
    db.close()
    return data_dir


def _untouched(data_dir: Path) -> bool:
    db = pw.SqliteDatabase(data_dir / "computalot.db")
    try:
        return not db.table_exists(HISTORY) and "queue_key" not in {c.name for c in db.get_columns("job")}
    finally:
        db.close()


def test_opening_an_unmigrated_database_is_refused_naming_the_command_and_changes_nothing(old_data_dir: Path):
    # Given the previous release's database
    # When the controller opens it without leave to migrate
    with pytest.raises(migrations.SchemaOutOfDate) as refused:
        open_database(f"sqlite:///{old_data_dir / 'computalot.db'}")
    # Then the error names the missing migration and the command, and the database is as it was
    assert "0002_job_queue_key" in refused.value.message
    assert "`computalot-admin migrate`" in refused.value.message
    assert refused.value.code == "schema_out_of_date"
    assert _untouched(old_data_dir)


async def test_the_app_does_not_start_on_an_unmigrated_database(old_data_dir: Path, aiohttp_client: Any):
    # Given a standalone controller's settings (no auto_migrate) over the previous release's data dir
    app = create_app(Settings(data_dir=old_data_dir))
    # When it starts
    # Then startup fails with the error naming the command
    with pytest.raises(migrations.SchemaOutOfDate, match="computalot-admin migrate"):
        await aiohttp_client(app)
    assert _untouched(old_data_dir)


def test_computalot_controller_exits_with_the_message_and_no_traceback(old_data_dir: Path):
    # Given the previous release's data dir
    # When `computalot-controller` is started on it
    result = CliRunner().invoke(controller_main, ["--data-dir", str(old_data_dir), "--port", "0"])
    # Then it exits 1 with one line saying what to run
    assert result.exit_code == 1
    assert "Error: the database lacks schema migrations 0002_job_queue_key" in result.output
    assert "computalot-admin migrate" in result.output and "Traceback" not in result.output
    assert _untouched(old_data_dir)


async def test_with_auto_migrate_the_app_migrates_and_starts(old_data_dir: Path, aiohttp_client: Any):
    # Given the embedded launcher's settings (auto_migrate) over the previous release's data dir
    app = create_app(Settings(data_dir=old_data_dir, auto_migrate=True))
    # When it starts
    client = await aiohttp_client(app)
    # Then it answers, the database is current and the old recipe job's queue key moved
    assert (await client.get("/health")).status == 200
    assert migrations.pending(app[STORE].db) == []
    await app[STORE].write(assert_jobs_migrated)
