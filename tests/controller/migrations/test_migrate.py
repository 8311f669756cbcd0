"""Migrating a database: from the release before migrations, from nothing, twice, and refusing what is not ours."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import peewee as pw
import pytest
from playhouse.migrate import SchemaMigrator

from controller import migrations
from controller.core.db import connect
from controller.migrations.history import TABLE as HISTORY
from controller.schema import MODELS, open_database
from tests.controller.migrations.support import (
    assert_jobs_migrated,
    insert_old_jobs,
    previous_release_sqlite,
    previous_release_statements,
)


def _shape(db: pw.Database) -> dict[str, tuple[list[tuple], list[tuple]]]:
    """Every table but the history: its columns and its indexes, order aside."""
    return {
        table: (
            sorted((c.name, c.data_type, c.null, c.primary_key) for c in db.get_columns(table)),
            sorted((i.name, tuple(i.columns), i.unique) for i in db.get_indexes(table)),
        )
        for table in db.get_tables()
        if table != HISTORY
    }


@pytest.fixture
def old_db(tmp_path: Path):
    """The SQLite database of the release before migrations, with an old-style recipe job and a project job."""
    db = connect(previous_release_sqlite(tmp_path / "old.db"))
    insert_old_jobs(db)
    yield db
    db.close()


def test_a_database_of_the_previous_release_is_migrated_and_its_recipe_job_keeps_its_queue(old_db: pw.Database):
    # Given the previous release's SQLite database, whose recipe job keeps its queue key in `profile`
    # When it is migrated
    applied = migrations.migrate(old_db)
    # Then 0001 is recorded (its tables were there) and the later ones applied
    assert [m.label for m in applied] == ["0002_job_queue_key", "0003_double_precision_times"]
    assert migrations.applied(old_db) == {1, 2, 3}
    # And the recipe job's key is in queue_key, the project job keeps its preset, and the models read and write
    assert_jobs_migrated()


def test_migrating_twice_changes_nothing_the_second_time(old_db: pw.Database):
    # Given a migrated database
    migrations.migrate(old_db)
    history = old_db.execute_sql(f"SELECT version, name, applied_at FROM {HISTORY} ORDER BY version").fetchall()
    shape = _shape(old_db)
    # When it is migrated again, directly and through open_database
    again = migrations.migrate(old_db)
    open_database(f"sqlite:///{old_db.database}", migrate=True)
    # Then nothing was applied and neither history nor schema changed
    assert again == []
    assert old_db.execute_sql(f"SELECT version, name, applied_at FROM {HISTORY} ORDER BY version").fetchall() == history
    assert _shape(old_db) == shape


def test_a_database_of_the_previous_release_is_recorded_at_version_one_without_rerunning_it(old_db: pw.Database):
    # Given the previous release's database: its tables, no history
    shape = _shape(old_db)
    # When it is adopted, twice
    first, second = migrations.adopt(old_db), migrations.adopt(old_db)
    # Then the first time records version 1 in a new history table, the second does nothing, no table changed
    assert (first, second) == (True, False)
    assert old_db.execute_sql(f"SELECT version, name FROM {HISTORY}").fetchall() == [(1, "initial")]
    assert _shape(old_db) == shape


def test_the_first_migration_creates_exactly_the_schema_of_the_previous_release(tmp_path: Path):
    # Given an empty SQLite database
    db = pw.SqliteDatabase(tmp_path / "m0001.db")
    # When only the first migration runs
    migrations.MIGRATIONS[0].apply(SchemaMigrator.from_database(db))
    # Then sqlite_master holds the frozen statements of the previous release, in their order
    made = [row[0] for row in db.execute_sql("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")]
    assert made == previous_release_statements()
    db.close()


def test_a_fresh_database_ends_with_the_tables_the_models_declare(tmp_path: Path):
    # Given an empty database opened by the controller (which migrates an empty database to the latest version)
    migrated = open_database(f"sqlite:///{tmp_path / 'migrated.db'}")
    # When another database is created straight from the models
    declared = pw.SqliteDatabase(tmp_path / "declared.db")
    with declared.bind_ctx(MODELS):
        declared.create_tables(MODELS)
    # Then both have the same tables, columns and indexes: no model change lacks its migration
    assert _shape(migrated) == _shape(declared)
    assert migrations.pending(migrated) == []
    migrated.close()
    declared.close()


def test_a_database_migrated_by_a_newer_release_is_refused(old_db: pw.Database):
    # Given a database whose history has a version this code does not know
    migrations.migrate(old_db)
    old_db.execute_sql(f"INSERT INTO {HISTORY} (version, name, applied_at) VALUES (99, 'future', 0)")
    # When it is checked or migrated
    # Then both refuse, saying to upgrade
    for attempt in (migrations.check, migrations.migrate):
        with pytest.raises(migrations.SchemaOutOfDate, match="version 99, newer than this release"):
            attempt(old_db)


def test_a_database_with_only_some_of_our_tables_is_not_taken_for_ours(tmp_path: Path):
    # Given a database holding the account table and nothing else of Computalot's
    path = tmp_path / "partial.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(previous_release_statements()[0])
    # When the controller opens it, even allowed to migrate
    # Then it is refused, naming a missing table
    with pytest.raises(migrations.SchemaOutOfDate, match="but not apikey, .*not made by Computalot"):
        open_database(f"sqlite:///{path}", migrate=True)
