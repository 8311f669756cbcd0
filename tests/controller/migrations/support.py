"""Databases of the release before migrations."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

#: The frozen SQLite schema of the release before migrations.
PREVIOUS_RELEASE_SQL = Path(__file__).with_name("previous_release.sqlite.sql")


def previous_release_statements() -> list[str]:
    """The fixture's statements, without comments or the trailing semicolons."""
    lines = [line for line in PREVIOUS_RELEASE_SQL.read_text().splitlines() if not line.startswith("--")]
    return [statement.strip().rstrip(";") for statement in "\n".join(lines).split(";\n") if statement.strip()]


def previous_release_sqlite(path: Path) -> str:
    """Create at `path` the SQLite database the release before migrations made; return its URL."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executescript(PREVIOUS_RELEASE_SQL.read_text())
    return f"sqlite:///{path}"
