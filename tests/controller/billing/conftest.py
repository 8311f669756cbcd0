from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import peewee as pw
import pytest

from controller.schema import open_database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[pw.Database]:
    """A fresh SQLite database with every table."""
    database = open_database(f"sqlite:///{tmp_path / 'billing.db'}")
    yield database
    database.close()
