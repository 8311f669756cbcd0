"""`computalot-admin` commands for money, wallets and feedback (added to `controller.admin.cli.main`)."""

from __future__ import annotations

import click
import peewee as pw

from controller.accounts.auth import ROLES
from controller.accounts.models import Account
from controller.billing import accounts, ledger
from controller.billing.errors import InsufficientFunds
from controller.feedback.models import Feedback
from controller.identity import wallets
from controller.identity.models import WalletIdentity


def parse_amount(value: str) -> int:
    """Micro-dollars of a dollar amount given on the command line."""
    try:
        return ledger.parse_usd(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _account(account_id: str) -> Account:
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        raise click.ClickException(f"no account {account_id!r}; list them with: computalot-admin list-accounts")
    return account


def _show_balance(account_id: str) -> None:
    balance = accounts.balance(account_id).to_json()
    click.echo(" ".join(f"{key}={value}" for key, value in balance.items()))


@click.command("credit")
@click.argument("account_id")
@click.argument("amount_usd")
@click.option("--reason", required=True, help="Why (kept in the account's ledger).")
@click.pass_obj
def credit_cmd(db: pw.Database, account_id: str, amount_usd: str, reason: str) -> None:
    """Credit an account's balance by AMOUNT_USD dollars."""
    amount = parse_amount(amount_usd)
    with db.atomic():
        accounts.add_entry(_account(account_id).id, "credit", amount, reason=reason)
    _show_balance(account_id)


@click.command("debit")
@click.argument("account_id")
@click.argument("amount_usd")
@click.option("--reason", required=True, help="Why (kept in the account's ledger).")
@click.pass_obj
def debit_cmd(db: pw.Database, account_id: str, amount_usd: str, reason: str) -> None:
    """Debit AMOUNT_USD dollars, at most the available balance."""
    amount = parse_amount(amount_usd)
    try:
        with db.atomic():
            accounts.debit(_account(account_id).id, amount, reason)
    except InsufficientFunds as exc:
        raise click.ClickException(exc.message) from None
    _show_balance(account_id)


@click.command("balance")
@click.argument("account_id")
@click.pass_obj
def balance_cmd(db: pw.Database, account_id: str) -> None:
    """Ledger balance, held and available dollars of an account."""
    _show_balance(_account(account_id).id)


@click.command("whitelist-wallet")
@click.argument("address")
@click.option("--account", "account_id", help="Sign in to this account (default: a new $0 account).")
@click.option("--name", default="", help="Name of the new account.")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option("--chain", type=click.Choice(["base"]), default="base", show_default=True)
@click.pass_obj
def whitelist_wallet_cmd(
    db: pw.Database, address: str, account_id: str | None, name: str, role: str, chain: str
) -> None:
    """Allow a wallet to sign in (POST /api/v1/auth/wallet/challenge, then /verify)."""
    try:
        with db.atomic():
            wallet = wallets.whitelist(address, chain, account_id=account_id, name=name, role=role)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wallet {wallet.address} ({chain}) signs in to account {wallet.account_id}")


@click.command("unwhitelist-wallet")
@click.argument("address")
@click.pass_obj
def unwhitelist_wallet_cmd(db: pw.Database, address: str) -> None:
    """Remove a wallet from the whitelist and end its sessions."""
    try:
        with db.atomic():
            removed = wallets.unwhitelist(address)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if not removed:
        raise click.ClickException(f"wallet {address} is not whitelisted")
    click.echo(f"removed {address.lower()}")


@click.command("list-wallets")
@click.pass_obj
def list_wallets_cmd(db: pw.Database) -> None:
    """Whitelisted wallets and their accounts."""
    for wallet in (
        WalletIdentity.select().where(WalletIdentity.revoked_at.is_null()).order_by(WalletIdentity.created_at)
    ):
        click.echo(f"{wallet.address}\t{wallet.chain}\t{wallet.account_id}\t{wallet.label}")


@click.command("list-feedback")
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_obj
def list_feedback_cmd(db: pw.Database, limit: int) -> None:
    """The newest feedback sent through POST /api/v1/feedback."""
    for row in Feedback.select().order_by(Feedback.id.desc()).limit(limit):
        click.echo(f"{row.id}\t{row.type}\t{row.title}\n\t{row.description}")


COMMANDS = (
    credit_cmd,
    debit_cmd,
    balance_cmd,
    whitelist_wallet_cmd,
    unwhitelist_wallet_cmd,
    list_wallets_cmd,
    list_feedback_cmd,
)
