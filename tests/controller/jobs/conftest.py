from __future__ import annotations

from tests.controller.billing.conftest import db  # noqa: F401  (fixture: a fresh SQLite database with every table)
