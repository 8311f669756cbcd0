"""The same migration on a real PostgreSQL, where `job.profile` is a VARCHAR(16) that truly limits its length."""

from __future__ import annotations

import peewee as pw
import pytest
from playhouse.migrate import SchemaMigrator

from controller import migrations
from controller.core.db import connect
from controller.migrations.history import TABLE as HISTORY
from controller.migrations.m0003_double_precision_times import COLUMNS
from tests.controller.migrations.support import assert_jobs_migrated, insert_old_jobs

pytestmark = pytest.mark.services


def test_a_postgresql_database_of_the_previous_release_is_refused_then_migrated(postgres_db_url: str):
    # Given the previous release's tables on PostgreSQL (the first migration alone makes exactly those, with no
    # history, as that release's create_tables did) holding an old-style recipe job and a project job
    db = connect(postgres_db_url)
    migrations.MIGRATIONS[0].apply(SchemaMigrator.from_database(db))
    insert_old_jobs(db)
    assert not db.table_exists(HISTORY)
    # When the controller checks it
    # Then it is refused, naming the command
    with pytest.raises(migrations.SchemaOutOfDate, match="computalot-admin migrate"):
        migrations.check(db)
    # When it is migrated, twice
    applied, again = migrations.migrate(db), migrations.migrate(db)
    # Then 0002 and 0003 ran once, the column is a NOT NULL VARCHAR(200), and the jobs are as the SQLite test expects
    labels = [m.label for m in applied]
    assert (labels, again, migrations.applied(db)) == (
        ["0002_job_queue_key", "0003_double_precision_times"],
        [],
        {1, 2, 3},
    )
    column = {c.name: c for c in db.get_columns("job")}["queue_key"]
    assert (column.data_type, column.null) == ("character varying", False)
    assert _max_length(db, "job", "queue_key") == 200
    assert_jobs_migrated()
    db.close()


def _max_length(db: pw.Database, table: str, column: str) -> int:
    sql = "SELECT character_maximum_length FROM information_schema.columns WHERE table_name = %s AND column_name = %s"
    return db.execute_sql(sql, (table, column)).fetchone()[0]


def test_times_keep_their_fraction_of_a_second_on_postgresql_after_migration(postgres_db_url: str):
    # Given the previous release's tables on PostgreSQL, where peewee's FloatField made the times 4-byte REALs
    db = connect(postgres_db_url)
    migrations.MIGRATIONS[0].apply(SchemaMigrator.from_database(db))
    stamp = 1_800_000_000.125
    db.execute_sql(
        "INSERT INTO account (id, name, role, webhook_secret, created_at) VALUES ('a', 'a', 'member', 's', %s)",
        (stamp,),
    )
    assert db.execute_sql("SELECT created_at FROM account").fetchone()[0] != stamp  # REAL: rounded to ~2 minutes
    # When it is migrated
    migrations.migrate(db)
    # Then every time column is DOUBLE PRECISION and a new time keeps its milliseconds
    types = {
        (table, column): db.execute_sql(
            "SELECT data_type FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
            (table, column),
        ).fetchone()[0]
        for table, columns in COLUMNS.items()
        for column in columns
    }
    assert set(types.values()) == {"double precision"}
    db.execute_sql("UPDATE account SET created_at = %s WHERE id = 'a'", (stamp,))
    assert db.execute_sql("SELECT created_at FROM account").fetchone()[0] == stamp
    db.close()
