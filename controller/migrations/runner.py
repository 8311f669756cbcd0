"""Applying migrations: find them, tell what a database lacks, apply that in order."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import peewee as pw
from playhouse.migrate import SchemaMigrator

from controller.core.settings import ConfigError
from controller.migrations import history, m0001_initial

logger = logging.getLogger(__name__)

#: Migration modules are named `mNNNN_what_it_does.py`.
_MODULE_NAME = re.compile(r"m(\d{4})_(\w+)")
#: A database with the tables of this version and no history was made by the release before migrations.
BASELINE = 1


class SchemaOutOfDate(ConfigError):
    """The database's schema is not the one this code was written for."""

    code = "schema_out_of_date"


@dataclass(frozen=True)
class Migration:
    """One schema change; `apply(migrator)` runs inside the transaction that records it."""

    version: int
    name: str
    apply: Callable[[SchemaMigrator], None]

    @property
    def label(self) -> str:
        """`0002_job_queue_key`: the module's name without its `m`."""
        return f"{self.version:04d}_{self.name}"


def _load() -> tuple[Migration, ...]:
    """Every migration module of this package, in version order.

    Raises:
      RuntimeError: the versions do not run 1, 2, 3... without gaps (two modules share a number, or one is missing).
    """
    found = []
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        match = _MODULE_NAME.fullmatch(module.name)
        if match:
            code = importlib.import_module(f"{__package__}.{module.name}")
            found.append(Migration(int(match[1]), match[2], code.apply))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration versions must be 1..n without gaps, found {[m.label for m in found]}")
    return tuple(found)


#: Every migration, oldest first.
MIGRATIONS: tuple[Migration, ...] = _load()


def _tables_of_baseline(db: pw.Database) -> set[str]:
    return set(m0001_initial.TABLES) & set(db.get_tables())


def is_empty(db: pw.Database) -> bool:
    """Whether `db` holds neither a migration history nor any of the first migration's tables."""
    return not history.exists(db) and not _tables_of_baseline(db)


def applied(db: pw.Database) -> set[int]:
    """The versions `db` has; a database of the release before migrations (its tables, no history) has version 1.

    Raises:
      SchemaOutOfDate: `db` has no history and only some of those tables, so no version describes it.
    """
    if history.exists(db):
        return history.versions(db)
    present = _tables_of_baseline(db)
    if not present:
        return set()
    missing = sorted(set(m0001_initial.TABLES) - present)
    if missing:
        raise SchemaOutOfDate(
            f"the database holds some of Computalot's tables but not {', '.join(missing)}, and no migration history: "
            "it was not made by Computalot, or it is damaged"
        )
    return {BASELINE}


def pending(db: pw.Database) -> list[Migration]:
    """The migrations `db` lacks, oldest first.

    Raises:
      SchemaOutOfDate: `db` was migrated by a newer release, or is not a Computalot database (see `applied`).
    """
    done = applied(db)
    unknown = done - {m.version for m in MIGRATIONS}
    if unknown:
        raise SchemaOutOfDate(
            f"the database is at schema version {max(unknown)}, newer than this release knows "
            f"({MIGRATIONS[-1].version}): upgrade Computalot"
        )
    return [m for m in MIGRATIONS if m.version not in done]


def check(db: pw.Database) -> None:
    """Return quietly when `db` is at this code's schema version.

    Raises:
      SchemaOutOfDate: `db` lacks migrations (the message names the command that applies them), or is newer.
    """
    missing = pending(db)
    if missing:
        raise SchemaOutOfDate(
            f"the database lacks schema migrations {', '.join(m.label for m in missing)}; "
            "apply them with `computalot-admin migrate` (same --data-dir or --database-url), then start again"
        )


def adopt(db: pw.Database) -> bool:
    """Record version 1 as applied to a database of the release before migrations; whether `db` was one."""
    if history.exists(db) or BASELINE not in applied(db):
        return False
    with db.atomic():
        history.record(db, BASELINE, MIGRATIONS[0].name)
    logger.info("database of the release before migrations: recorded %s as applied", MIGRATIONS[0].label)
    return True


def migrate(db: pw.Database) -> list[Migration]:
    """Apply what `db` lacks, each migration in one transaction with its history row; return those applied.

    Raises:
      SchemaOutOfDate: `db` is newer than this code, or is not a Computalot database (see `applied`).
    """
    adopt(db)
    todo = pending(db)
    for migration in todo:
        migrator = SchemaMigrator.from_database(db)
        # A transaction; on SQLite also with foreign keys off, which table rebuilds need.
        with migrator.migration_context():
            migration.apply(migrator)
            history.record(db, migration.version, migration.name)
        logger.info("applied schema migration %s", migration.label)
    return todo
