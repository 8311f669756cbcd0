"""`computalot-admin migrate`: what it prints; and bootstrap, the other direct writer, on a database that lacks it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from controller.admin.cli import main as admin_main
from controller.core.db import connect
from tests.controller.migrations.support import assert_jobs_migrated, insert_old_jobs, previous_release_sqlite


def _old_data_dir(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = connect(previous_release_sqlite(data_dir / "computalot.db"))
    insert_old_jobs(db)
    db.close()
    return data_dir


def test_migrate_prints_what_it_applied_then_that_the_database_is_up_to_date(tmp_path: Path):
    # Given the previous release's data dir
    data_dir = _old_data_dir(tmp_path)
    # When `computalot-admin migrate` runs twice
    first = CliRunner().invoke(admin_main, ["--data-dir", str(data_dir), "migrate"])
    second = CliRunner().invoke(admin_main, ["--data-dir", str(data_dir), "migrate"])
    # Then the first run recorded 0001 and applied the later ones, the second applied nothing
    assert (first.exit_code, first.output.splitlines()) == (
        0,
        [
            "recorded 0001_initial as applied: the database predates migrations",
            "applied 0002_job_queue_key",
            "applied 0003_double_precision_times",
        ],
    )
    assert (second.exit_code, second.output) == (0, "up to date at 0003_double_precision_times\n")
    # And the old recipe job now has its queue key in its own column
    db = connect(f"sqlite:///{data_dir / 'computalot.db'}")
    assert_jobs_migrated()
    db.close()


def test_migrate_on_a_fresh_data_dir_applies_every_migration(tmp_path: Path):
    # Given a data dir with no database yet
    # When `computalot-admin migrate` runs
    result = CliRunner().invoke(admin_main, ["--data-dir", str(tmp_path / "new"), "migrate"])
    # Then it applied all of them, in order
    assert (result.exit_code, result.output) == (
        0,
        "applied 0001_initial\napplied 0002_job_queue_key\napplied 0003_double_precision_times\n",
    )


def test_bootstrap_refuses_an_unmigrated_database_naming_migrate(tmp_path: Path):
    # Given the previous release's data dir
    data_dir = _old_data_dir(tmp_path)
    # When bootstrap, the other command that opens the database, runs on it
    result = CliRunner().invoke(admin_main, ["--data-dir", str(data_dir), "bootstrap", "ops"])
    # Then it exits 1 and says to run migrate first, having made no account
    assert result.exit_code == 1
    assert "computalot-admin migrate" in result.output and "Traceback" not in result.output
    db = connect(f"sqlite:///{data_dir / 'computalot.db'}")
    assert db.execute_sql("SELECT count(*) FROM account").fetchone() == (1,)  # the old jobs' account only
    db.close()
