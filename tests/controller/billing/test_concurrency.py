"""Submissions racing for an account's last dollars, each in its own transaction and connection (as two
controllers would be), never overdraw: on SQLite and on PostgreSQL, where the account row is locked."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import peewee as pw
import pytest

from controller.billing import accounts, pricing
from controller.billing.errors import Shortfall
from controller.billing.models import Hold
from controller.jobs.kinds import plan_job
from controller.jobs.models import Job
from controller.jobs.spec import parse_job_spec
from controller.schema import open_database
from tests.controller.billing import support
from tests.controller.billing.support import check_invariants, job_body, new_account

RACERS = 8


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[pw.Database]:
    url = (
        f"sqlite:///{tmp_path / 'race.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_db_url")
    )
    database = open_database(url)
    yield database
    database.close()


def test_racing_submissions_never_spend_more_than_the_balance(any_db: pw.Database, monkeypatch) -> None:
    # Given an account that can afford exactly 3 holds of a job, plus half of another
    body = job_body(tasks=2, timeout_s=3600)
    spec = parse_job_spec(body)
    hold = pricing.price(spec, plan_job(spec)).hold_micro
    account = new_account(any_db, 3 * hold + hold // 2)

    # ... and a wide window between the balance check and the hold (as a slow insert of many tasks would be)
    real_reserve = accounts.reserve

    def slow_reserve(account_id: str, amount: int) -> accounts.Balance:
        checked = real_reserve(account_id, amount)
        time.sleep(0.05)
        return checked

    monkeypatch.setattr(support.accounts, "reserve", slow_reserve)

    # When 8 submissions start at once, each in its own thread, connection and transaction
    start = threading.Barrier(RACERS)
    outcomes: list[str] = []

    def race() -> None:
        start.wait()
        try:
            with any_db.atomic():
                support.submit(account, body)
            outcomes.append("created")
        except Shortfall:
            outcomes.append("refused")
        finally:
            any_db.close()

    threads = [threading.Thread(target=race) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # Then exactly three were created, the rest refused with nothing left behind, and nothing is overdrawn
    assert sorted(outcomes) == ["created"] * 3 + ["refused"] * (RACERS - 3)
    assert Job.select().count() == Hold.select().count() == 3
    balance = accounts.balance(account.id)
    assert balance.available_micro == hold // 2
    check_invariants({account.id: 3 * hold + hold // 2})
