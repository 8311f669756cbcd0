"""Money and identity on the embedded platform: a $0 account is refused with a quote, funds itself with x402 and
retries; jobs are charged their task-time; wallets sign in; the admin command moves money."""

from __future__ import annotations

import subprocess

import pytest
from computalot import ComputalotClient, PaymentRequired
from eth_account import Account

from tests.conftest_platform import Platform, make_project, process_manifest
from tests.e2e.conftest import SCRIPT


def admin(embedded: Platform, *args: str) -> str:
    return subprocess.run([*embedded.admin_args, *args], capture_output=True, text=True, check=True).stdout


def zero_balance_client(embedded: Platform) -> tuple[ComputalotClient, str]:
    out = admin(embedded, "create-account", "broke").strip().splitlines()
    account_id = out[0].split()[1]
    return ComputalotClient(embedded.url, out[-1]), account_id


def test_an_unfunded_submit_is_refused_with_a_quote_and_succeeds_once_the_quote_is_paid(embedded: Platform) -> None:
    # Given an account at $0 with a pushed project
    client, _ = zero_balance_client(embedded)
    assert client.get_balance()["available_usd"] == 0
    project = make_project(
        client, {"computalot.project.json": process_manifest(["python3", "run.py"]), "run.py": SCRIPT}
    )
    job = {"project": project, "payload": {"sleep": 0.2}, "fan_out": {"items": [{"i": 0}, {"i": 1}]}, "timeout_s": 60}

    # When it submits a job: 402 with a shortfall quote, and nothing was created
    with pytest.raises(PaymentRequired) as refused:
        client.submit_job(job)
    quote = refused.value.quote
    assert refused.value.code == "insufficient_balance" and quote["kind"] == "shortfall"
    assert client.list_jobs()["jobs"] == []
    assert [q["id"] for q in client.list_quotes()["quotes"]] == [quote["id"]]

    # And a script pays the quote with a wallet key it holds
    paid = client.pay_quote_x402(quote["id"], Account.create().key.hex())
    assert paid["credited_usd"] == quote["amount_usd"] and paid["payment_response"]["success"] is True

    # Then the same submit succeeds, holds the most the job can cost, and settles to its task-time when done
    created = client.submit_job(job)
    assert client.list_holds()["holds"][0]["job_id"] == created["id"]
    results = client.wait(created["id"], timeout_s=60)
    assert results["status"] == "completed"
    assert 0 < results["cost_usd"] <= quote["required_usd"]
    assert client.list_holds()["holds"] == []
    balance = client.get_balance()
    assert balance["held_usd"] == 0
    assert balance["ledger_balance_usd"] == pytest.approx(quote["amount_usd"] - results["cost_usd"], abs=1e-9)
    entries = client.list_ledger()["entries"]
    assert [(e["kind"], e["job_id"]) for e in entries] == [("charge", created["id"]), ("topup", None)]
    assert client.get_job(created["id"])["cost_usd"] == results["cost_usd"]


def test_a_user_script_funds_itself_with_a_top_up(embedded: Platform) -> None:
    client, _ = zero_balance_client(embedded)
    key = Account.create()

    answer = client.top_up_x402(7.25, key.key.hex())

    assert answer["credited_usd"] == 7.25 and answer["payer"] == key.address
    assert client.get_balance()["available_usd"] == 7.25
    assert client.list_ledger()["entries"][0]["kind"] == "topup"


def test_a_whitelisted_wallet_signs_in_and_needs_funds_to_init_a_project(embedded: Platform) -> None:
    # Given a wallet key made here and whitelisted with the admin command
    key = Account.create()
    assert key.address.lower() in admin(embedded, "whitelist-wallet", key.address)

    # When the SDK signs in with it
    client = ComputalotClient(embedded.url, token=None)
    session = client.sign_in_with_wallet(key.key.hex())

    # Then the session token works like a key: the new wallet account is at $0 and init asks for $5
    assert session["token"].startswith("fls_")
    client.create_project("wallet-proj")
    with pytest.raises(PaymentRequired) as refused:
        client.init_project("wallet-proj")
    assert refused.value.quote["amount_usd"] == 5
    client.pay_quote_x402(refused.value.quote["id"], key.key.hex())
    assert client.init_project("wallet-proj")["status"] == "init_requested"


def test_the_admin_command_credits_and_debits_with_a_reason(embedded: Platform) -> None:
    client, account_id = zero_balance_client(embedded)

    admin(embedded, "credit", account_id, "3.50", "--reason", "beta credit")
    shown = admin(embedded, "debit", account_id, "1", "--reason", "correction")
    refused = subprocess.run(
        [*embedded.admin_args, "debit", account_id, "100", "--reason", "too much"], capture_output=True, text=True
    )

    assert "available_usd=2.5" in shown
    assert refused.returncode != 0
    assert [(e["kind"], e["amount_usd"], e["reason"]) for e in client.list_ledger()["entries"]] == [
        ("debit", -1, "correction"),
        ("credit", 3.5, "beta credit"),
    ]


def test_the_embedded_admin_starts_with_credit(embedded: Platform) -> None:
    with ComputalotClient(embedded.url, embedded.admin_token) as client:
        credits = [e for e in client.list_ledger(limit=500)["entries"] if e["kind"] == "credit"]
    assert [e["amount_usd"] for e in credits if "embedded admin" in e["reason"]] == [10_000]
