"""The history table: which migrations a database has had, and when."""

from __future__ import annotations

import time

import peewee as pw

#: Not part of `controller.schema.MODELS`: the migrations own this table.
TABLE = "schema_migrations"


class SchemaMigration(pw.Model):
    """One applied migration."""

    version = pw.IntegerField(primary_key=True)
    name = pw.CharField(max_length=200)
    #: UNIX seconds (double precision: peewee's FloatField is a 4-byte REAL on PostgreSQL)
    applied_at = pw.DoubleField()

    class Meta:
        table_name = TABLE


def exists(db: pw.Database) -> bool:
    """Whether `db` has a history table."""
    return db.table_exists(TABLE)


def versions(db: pw.Database) -> set[int]:
    """The versions recorded in `db`'s history; none when it has no history table."""
    if not exists(db):
        return set()
    with db.bind_ctx([SchemaMigration]):
        return {row.version for row in SchemaMigration.select(SchemaMigration.version)}


def record(db: pw.Database, version: int, name: str) -> None:
    """Record `version` as applied now, creating the history table on first use."""
    with db.bind_ctx([SchemaMigration]):
        db.create_tables([SchemaMigration])
        SchemaMigration.create(version=version, name=name, applied_at=time.time())
