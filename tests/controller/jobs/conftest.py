"""Fixtures of the job tests: a fresh SQLite database with every table, and a funded member account in it."""

from __future__ import annotations

import peewee as pw
import pytest

from controller.accounts.models import Account
from controller.billing import ledger
from tests.controller.billing.conftest import db  # noqa: F401  (fixture: a fresh SQLite database with every table)
from tests.controller.billing.support import new_account


@pytest.fixture
def account(db: pw.Database) -> Account:  # noqa: F811  (db is the fixture imported above)
    return new_account(db, 100 * ledger.MICRO_PER_USD)
