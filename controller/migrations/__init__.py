"""Versioned schema migrations (peewee's `playhouse.migrate`), one module per migration.

`mNNNN_name.py` modules define `apply(migrator)`; `migrate(db)` applies the ones a database lacks, in order,
and records each in the `schema_migrations` table. See CONTRIBUTING.md, "How to add a migration".
"""

from __future__ import annotations

from controller.migrations.runner import (
    MIGRATIONS,
    Migration,
    SchemaOutOfDate,
    adopt,
    applied,
    check,
    is_empty,
    migrate,
    pending,
)

__all__ = [
    "MIGRATIONS",
    "Migration",
    "SchemaOutOfDate",
    "adopt",
    "applied",
    "check",
    "is_empty",
    "migrate",
    "pending",
]
