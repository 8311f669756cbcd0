"""Times and other real numbers become DOUBLE PRECISION on PostgreSQL.

peewee's `FloatField` is a 4-byte `REAL` on PostgreSQL: a UNIX time in it keeps about 7 significant digits, so
every `*_at` column was rounded to about two minutes (ordering, expiry and the lost-agent cutoff all read them).
The models now use `DoubleField`. SQLite's `REAL` is already 8 bytes: nothing changes there.
"""

from __future__ import annotations

import peewee as pw
from playhouse.migrate import SchemaMigrator

#: table -> its REAL columns at version 2
COLUMNS: dict[str, tuple[str, ...]] = {
    "account": ("created_at",),
    "apikey": ("created_at", "revoked_at"),
    "project": ("created_at", "updated_at"),
    "revision": ("created_at",),
    "job": ("created_at", "started_at", "finished_at"),
    "callback": ("next_at",),
    "task": ("result_quality", "claimed_at", "started_at", "finished_at"),
    "event": ("created_at",),
    "artifact": ("created_at",),
    "artifactupload": ("created_at", "expires_at"),
    "artifactpart": ("received_at",),
    "ledgerentry": ("created_at",),
    "hold": ("created_at", "settled_at"),
    "quote": ("created_at", "expires_at", "paid_at"),
    "payment": ("created_at", "settled_at"),
    "walletidentity": ("created_at", "revoked_at"),
    "walletchallenge": ("created_at", "expires_at", "used_at"),
    "session": ("created_at", "expires_at", "revoked_at"),
    "feedback": ("created_at",),
}


def apply(migrator: SchemaMigrator) -> None:
    """Widen every REAL column to DOUBLE PRECISION, one statement per table (PostgreSQL only)."""
    db = migrator.database
    if not isinstance(db, pw.PostgresqlDatabase):
        return
    for table, columns in COLUMNS.items():
        changes = ", ".join(f'ALTER COLUMN "{column}" TYPE DOUBLE PRECISION' for column in columns)
        db.execute_sql(f'ALTER TABLE "{table}" {changes}')
