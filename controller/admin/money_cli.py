"""`computalot-admin` commands for money, wallets and feedback (added to `controller.admin.cli.main`)."""

from __future__ import annotations

from typing import Any

import click

from controller.accounts.auth import USER_ROLES
from controller.admin.client import AdminContext, segment
from controller.billing import ledger

#: The balance fields `balance`, `credit` and `debit` print, in this order.
BALANCE_FIELDS = ("ledger_balance_usd", "held_usd", "available_usd")


def parse_amount(value: str) -> int:
    """Micro-dollars of a dollar amount given on the command line."""
    try:
        return ledger.parse_usd(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def no_account(account_id: str) -> str:
    """What a command says when the account does not exist."""
    return f"no account {account_id!r}; list them with: computalot-admin list-accounts"


def _show_balance(balance: dict[str, Any]) -> None:
    click.echo(" ".join(f"{key}={balance[key]}" for key in BALANCE_FIELDS))


def _move(obj: AdminContext, kind: str, account_id: str, amount_usd: str, reason: str) -> None:
    parse_amount(amount_usd)  # a usage error before any request
    answer = obj.api.call(
        "POST",
        f"/api/v1/admin/accounts/{segment(account_id)}/{kind}",
        json={"amount_usd": amount_usd.strip(), "reason": reason},
        missing=no_account(account_id),
    )
    _show_balance(answer["balance"])


@click.command("credit")
@click.argument("account_id")
@click.argument("amount_usd")
@click.option("--reason", required=True, help="Why (kept in the account's ledger).")
@click.pass_obj
def credit_cmd(obj: AdminContext, account_id: str, amount_usd: str, reason: str) -> None:
    """Credit an account's balance by AMOUNT_USD dollars."""
    _move(obj, "credit", account_id, amount_usd, reason)


@click.command("debit")
@click.argument("account_id")
@click.argument("amount_usd")
@click.option("--reason", required=True, help="Why (kept in the account's ledger).")
@click.pass_obj
def debit_cmd(obj: AdminContext, account_id: str, amount_usd: str, reason: str) -> None:
    """Debit AMOUNT_USD dollars, at most the available balance."""
    _move(obj, "debit", account_id, amount_usd, reason)


@click.command("balance")
@click.argument("account_id")
@click.pass_obj
def balance_cmd(obj: AdminContext, account_id: str) -> None:
    """Ledger balance, held and available dollars of an account."""
    listed = obj.api.call("GET", "/api/v1/admin/accounts")["accounts"]
    account = next((a for a in listed if a["id"] == account_id), None)
    if account is None:
        raise click.ClickException(no_account(account_id))
    _show_balance(account)


@click.command("whitelist-wallet")
@click.argument("address")
@click.option("--account", "account_id", help="Sign in to this account (default: a new $0 account).")
@click.option("--name", default="", help="Name of the new account.")
@click.option("--role", type=click.Choice(USER_ROLES), default="member", show_default=True)
@click.option("--chain", type=click.Choice(["base"]), default="base", show_default=True)
@click.pass_obj
def whitelist_wallet_cmd(
    obj: AdminContext, address: str, account_id: str | None, name: str, role: str, chain: str
) -> None:
    """Allow a wallet to sign in (POST /api/v1/auth/wallet/challenge, then /verify)."""
    body = {"wallet_address": address, "chain": chain, "name": name, "role": role}
    wallet = obj.api.call("POST", "/api/v1/admin/wallets", json={**body, "account_id": account_id or ""})["wallet"]
    click.echo(f"wallet {wallet['wallet_address']} ({chain}) signs in to account {wallet['account_id']}")


@click.command("unwhitelist-wallet")
@click.argument("address")
@click.pass_obj
def unwhitelist_wallet_cmd(obj: AdminContext, address: str) -> None:
    """Remove a wallet from the whitelist and end its sessions."""
    path = f"/api/v1/admin/wallets/{segment(address)}"
    removed = obj.api.call("DELETE", path, missing=f"wallet {address} is not whitelisted")["removed"]
    click.echo(f"removed {removed}")


@click.command("list-wallets")
@click.pass_obj
def list_wallets_cmd(obj: AdminContext) -> None:
    """Whitelisted wallets and their accounts."""
    for wallet in obj.api.call("GET", "/api/v1/admin/wallets")["wallets"]:
        click.echo(f"{wallet['wallet_address']}\t{wallet['chain']}\t{wallet['account_id']}\t{wallet['label']}")


@click.command("list-feedback")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.pass_obj
def list_feedback_cmd(obj: AdminContext, limit: int) -> None:
    """The newest feedback sent through POST /api/v1/feedback."""
    for row in obj.api.call("GET", "/api/v1/admin/feedback", params={"limit": limit})["feedback"]:
        click.echo(f"{row['id']}\t{row['type']}\t{row['title']}\n\t{row['description']}")


COMMANDS = (
    credit_cmd,
    debit_cmd,
    balance_cmd,
    whitelist_wallet_cmd,
    unwhitelist_wallet_cmd,
    list_wallets_cmd,
    list_feedback_cmd,
)
