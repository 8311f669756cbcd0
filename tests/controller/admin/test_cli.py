"""`computalot-admin` is a client of the admin API: same commands and output as when it wrote to the database, and the
controller stays the only writer. Only `bootstrap` writes directly, and only while no admin exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner
from eth_account import Account as WalletKey

from controller.accounts.models import Account, ApiKey
from controller.admin.cli import main
from controller.billing.models import LedgerEntry
from controller.identity.models import WalletIdentity
from tests.controller.admin.conftest import AdminCli
from tests.controller.api_support import Api, ApiFactory


def snapshot() -> dict[str, Any]:
    """Every row an admin command could change."""
    return {
        "accounts": sorted((a.id, a.role, a.name) for a in Account.select()),
        "keys": sorted((k.id, k.revoked_at) for k in ApiKey.select()),
        "ledger": sorted((e.id, e.amount_micro) for e in LedgerEntry.select()),
        "wallets": sorted((w.address, w.revoked_at) for w in WalletIdentity.select()),
    }


async def test_create_account_prints_the_account_and_a_key_that_works(admin_cli: AdminCli) -> None:
    # When an admin creates a credited member account from the command line
    result = await admin_cli("create-account", "alice", "--credit-usd", "25")

    # Then it prints the account, then the key, and the key sees the credit
    assert result.exit_code == 0, result.output
    head, token = result.output.strip().splitlines()
    assert head.startswith("account acc_") and head.endswith(" (member)")
    status, balance, _ = await admin_cli.api.call("GET", "/api/v1/account/balance", token)
    assert (status, balance["available_usd"]) == (200, 25)
    listed = (await admin_cli("list-accounts")).output.splitlines()
    assert f"{head.split()[1]}\tmember\talice" in listed


async def test_keys_are_issued_listed_and_revoked_once(admin_cli: AdminCli) -> None:
    # Given an account
    account_id = (await admin_cli("create-account", "bob")).output.split()[1]

    # When a second key is issued, listed, and revoked twice
    issued = await admin_cli("issue-key", account_id, "--label", "ci")
    listed = await admin_cli("list-keys", account_id)
    key_id = [line.split("\t")[0] for line in listed.output.splitlines() if line.endswith("\tci")][0]
    revoked = await admin_cli("revoke-key", key_id)
    again = await admin_cli("revoke-key", key_id)

    # Then the new key worked until it was revoked, and the second revoke says there is no live key
    assert issued.output.strip().startswith("flk_")
    assert [line.split("\t")[2] for line in listed.output.splitlines()] == ["live", "live"]
    assert revoked.output == f"revoked {key_id}\n"
    assert (again.exit_code, again.output) == (1, f"Error: no live key {key_id!r}\n")
    assert (await admin_cli.api.call("GET", "/api/v1/account/balance", issued.output.strip()))[0] == 401
    assert "\trevoked\tci" in (await admin_cli("list-keys", account_id)).output


async def test_credit_debit_and_balance_print_the_balance_and_refuse_an_overdraft(admin_cli: AdminCli) -> None:
    # Given an account at $0
    account_id = (await admin_cli("create-account", "carol")).output.split()[1]

    # When an admin credits, debits, overdraws and asks for the balance
    credited = await admin_cli("credit", account_id, "3.50", "--reason", "beta credit")
    debited = await admin_cli("debit", account_id, "1", "--reason", "correction")
    refused = await admin_cli("debit", account_id, "100", "--reason", "too much")
    shown = await admin_cli("balance", account_id)

    # Then each move prints the balance, the overdraft is refused with the server's reason
    assert credited.output == "ledger_balance_usd=3.5 held_usd=0.0 available_usd=3.5\n"
    assert debited.output == shown.output == "ledger_balance_usd=2.5 held_usd=0.0 available_usd=2.5\n"
    assert refused.exit_code == 1 and "2.5 USD available, less than the debit" in refused.output
    reasons = [e.reason for e in LedgerEntry.select().where(LedgerEntry.account == account_id)]
    assert sorted(reasons) == ["beta credit", "correction"]


async def test_an_unknown_account_is_named_with_a_hint(admin_cli: AdminCli) -> None:
    expected = "Error: no account 'acc_nope'; list them with: computalot-admin list-accounts\n"
    for args in (["balance"], ["issue-key"], ["list-keys"], ["credit", "1", "--reason", "x"], ["debit", "1"]):
        result = await admin_cli(args[0], "acc_nope", *args[1:], *(["--reason", "y"] if args[0] == "debit" else []))
        assert (result.exit_code, result.output) == (1, expected), args


async def test_a_bad_amount_is_a_usage_error_before_any_request(admin_cli: AdminCli) -> None:
    before = snapshot()
    result = await admin_cli("create-account", "dan", "--credit-usd", "lots")
    assert result.exit_code == 2 and "must be a number of dollars" in result.output
    assert snapshot() == before


async def test_wallets_are_whitelisted_listed_and_removed(admin_cli: AdminCli) -> None:
    # Given a wallet key and an account
    key = WalletKey.create()
    account_id = (await admin_cli("create-account", "erin")).output.split()[1]

    # When an admin whitelists it for the account, lists, removes it twice, and whitelists for an unknown account
    added = await admin_cli("whitelist-wallet", key.address, "--account", account_id)
    listed = await admin_cli("list-wallets")
    removed = await admin_cli("unwhitelist-wallet", key.address)
    again = await admin_cli("unwhitelist-wallet", key.address)
    unknown = await admin_cli("whitelist-wallet", key.address, "--account", "acc_nope")

    # Then each answer reads as it did when the command wrote to the database itself
    address = key.address.lower()
    assert added.output == f"wallet {address} (base) signs in to account {account_id}\n"
    assert listed.output == f"{address}\tbase\t{account_id}\t\n"
    assert removed.output == f"removed {address}\n"
    assert (again.exit_code, again.output) == (1, f"Error: wallet {key.address} is not whitelisted\n")
    assert (unknown.exit_code, unknown.output) == (1, "Error: no account 'acc_nope'\n")
    assert (await admin_cli("list-wallets")).output == ""


async def test_list_feedback_prints_the_newest_first(admin_cli: AdminCli) -> None:
    # Given two pieces of feedback
    for title in ("first", "second"):
        body = {"type": "bug", "title": title, "description": f"about {title}"}
        assert (await admin_cli.api.call("POST", "/api/v1/feedback", json=body))[0] == 201

    # When an admin lists one
    result = await admin_cli("list-feedback", "--limit", "1")

    # Then it is the newest
    assert result.output.endswith("\tbug\tsecond\n\tabout second\n"), result.output


async def test_a_member_token_gets_403_and_changes_nothing(admin_cli: AdminCli) -> None:
    # Given a member's key, an account and a whitelisted wallet to aim at
    member = await admin_cli.api.token("member", name="mallory")
    target = (await admin_cli("create-account", "victim", "--credit-usd", "5")).output.split()[1]
    wallet = WalletKey.create().address
    await admin_cli("whitelist-wallet", wallet)
    key_id = (await admin_cli("list-keys", target)).output.split("\t")[0]
    before = snapshot()

    # When the member uses computalot-admin for every write and a read
    attempts = [
        ["create-account", "mallory2", "--role", "admin", "--credit-usd", "1000"],
        ["issue-key", target],
        ["revoke-key", key_id],
        ["credit", target, "1000", "--reason", "free money"],
        ["debit", target, "5", "--reason", "theft"],
        ["whitelist-wallet", WalletKey.create().address, "--role", "admin"],
        ["unwhitelist-wallet", wallet],
        ["list-accounts"],
    ]
    results = [await admin_cli(*args, token=member) for args in attempts]

    # Then each is refused with the 403's message, and the database holds exactly what it held
    for args, result in zip(attempts, results, strict=True):
        assert result.exit_code == 1, args
        assert result.output.startswith("Error: this route needs an admin token; pass an admin token"), result.output
    assert snapshot() == before


async def test_the_token_and_url_default_to_the_embedded_platform(admin_cli: AdminCli) -> None:
    # Given no --token, and at first no token file in the data dir
    missing = await admin_cli.raw("--data-dir", str(admin_cli.data_dir), "--url", admin_cli.url, "list-accounts")

    # When the embedded admin's token file appears, and the URL comes from COMPUTALOT_URL
    admin_cli.data_dir.mkdir(parents=True)
    (admin_cli.data_dir / "admin-token").write_text(admin_cli.token + "\n")
    found = await admin_cli.raw(
        "--data-dir", str(admin_cli.data_dir), "list-accounts", env={"COMPUTALOT_URL": admin_cli.url}
    )

    # Then the first is a usage error naming the file, and the second reads the accounts with that token
    assert missing.exit_code == 2 and str(admin_cli.data_dir / "admin-token") in missing.output
    assert found.exit_code == 0 and "\tadmin\troot\n" in found.output


async def test_an_unreachable_controller_is_named(admin_cli: AdminCli) -> None:
    result = await admin_cli.raw("--url", "http://127.0.0.1:1", "--token", admin_cli.token, "list-accounts")
    assert result.exit_code == 1 and "cannot reach the controller at http://127.0.0.1:1" in result.output


def test_bootstrap_makes_the_first_admin_once(tmp_path: Path) -> None:
    # Given a new deployment's data dir, with no controller running
    args = ["--data-dir", str(tmp_path), "bootstrap", "ops", "--credit-usd", "1000"]

    # When bootstrap runs twice
    first = CliRunner().invoke(main, args)
    second = CliRunner().invoke(main, [*args[:3], "again"])

    # Then the first makes the admin and prints its key; the second refuses and adds nothing
    assert first.exit_code == 0, first.output
    head, token = first.output.strip().splitlines()
    assert head.startswith("account acc_") and head.endswith(" (admin)") and token.startswith("flk_")
    assert second.exit_code == 1 and "an admin account exists already" in second.output
    assert [(a.name, a.role) for a in Account.select()] == [("ops", "admin")]


async def test_the_bootstrapped_admin_runs_the_other_commands_once_the_controller_is_up(
    make_api: ApiFactory, tmp_path: Path
) -> None:
    # Given the first admin made by bootstrap in the data dir, then a controller started on it
    made = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "bootstrap", "ops", "--credit-usd", "1000"])
    api: Api = await make_api()

    # When that admin's key creates an account through the controller
    cli = AdminCli(api, tmp_path / "cli", made.output.strip().splitlines()[-1])
    created = await cli("create-account", "alice")

    # Then it works, and bootstrap now refuses
    assert created.exit_code == 0, created.output
    assert "\tmember\talice" in (await cli("list-accounts")).output
    again = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "bootstrap", "other"])
    assert again.exit_code == 1 and "an admin account exists already" in again.output


async def test_create_agent_writes_a_key_file_of_mode_0600_whose_key_reaches_the_agent_routes_only(
    admin_cli: AdminCli, tmp_path: Path
) -> None:
    # When an admin creates an agent with its key written to a file
    key_file = tmp_path / "agent-key"
    result = await admin_cli("create-agent", "gpu-1", "--key-file", str(key_file))

    # Then it prints the agent's id and not the key, and the file holds the key, readable by its owner only
    assert result.exit_code == 0, result.output
    agent_id = result.output.splitlines()[0].removeprefix("agent ")
    key = key_file.read_text().strip()
    assert agent_id.startswith("agt_") and key.startswith("flk_") and key not in result.output
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert Account.get_by_id(agent_id).role == "agent"
    # And the key claims on the agent routes, and is refused on an account route
    claim = {"task_id": "task_none", "attempt": 1}
    assert (await admin_cli.api.call("POST", "/api/v1/agent/claim", key, json=claim))[0] == 200
    assert (await admin_cli.api.call("GET", "/api/v1/account", key))[0] == 403


async def test_create_agent_refuses_a_key_file_that_exists_and_makes_no_agent(
    admin_cli: AdminCli, tmp_path: Path
) -> None:
    # Given a file that exists already
    key_file = tmp_path / "agent-key"
    key_file.write_text("something else\n")
    before = snapshot()

    # When an agent is created with its key written there
    result = await admin_cli("create-agent", "gpu-1", "--key-file", str(key_file))

    # Then the command fails, the file is untouched and no agent was made
    assert result.exit_code == 1 and "exists already" in result.output
    assert key_file.read_text() == "something else\n"
    assert snapshot() == before
