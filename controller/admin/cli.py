"""`computalot-admin`: accounts and API keys, straight on the database."""

from __future__ import annotations

import time
from pathlib import Path

import click

from controller.accounts.auth import ROLES, create_account, issue_key
from controller.accounts.models import Account, ApiKey
from controller.admin import money_cli as admin_accounts
from controller.billing import accounts
from controller.core.settings import Settings
from controller.schema import open_database


@click.group()
@click.option("--data-dir", type=click.Path(path_type=Path), help="Data dir of the controller (SQLite).")
@click.option("--database-url", help="Database URL (env COMPUTALOT_DATABASE_URL).")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, database_url: str | None) -> None:
    """Manage accounts and keys of a Computalot controller."""
    settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
    ctx.obj = open_database(settings.effective_database_url)


@main.command("create-account")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option("--credit-usd", default="0", show_default=True, help="Starting credit, as a ledger entry.")
@click.pass_obj
def create_account_cmd(db, name: str, role: str, credit_usd: str) -> None:
    """Create an account and print its first API key (shown once)."""
    credit = admin_accounts.parse_amount(credit_usd) if credit_usd.strip() not in ("0", "") else 0
    with db.atomic():
        account = create_account(name, role)
        token = issue_key(account, label="created by computalot-admin")
        if credit:
            accounts.credit(account.id, credit, "starting credit (computalot-admin create-account)")
    click.echo(f"account {account.id} ({role})")
    click.echo(token)


@main.command("issue-key")
@click.argument("account_id")
@click.option("--label", default="")
@click.pass_obj
def issue_key_cmd(db, account_id: str, label: str) -> None:
    """Issue another API key for an account."""
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        raise click.ClickException(f"no account {account_id!r}; list them with: computalot-admin list-accounts")
    with db.atomic():
        click.echo(issue_key(account, label))


@main.command("revoke-key")
@click.argument("key_id")
@click.pass_obj
def revoke_key_cmd(db, key_id: str) -> None:
    """Revoke an API key by id (see list-keys)."""
    with db.atomic():
        changed = (
            ApiKey.update(revoked_at=time.time()).where(ApiKey.id == key_id, ApiKey.revoked_at.is_null()).execute()
        )
    if not changed:
        raise click.ClickException(f"no live key {key_id!r}")
    click.echo(f"revoked {key_id}")


@main.command("list-accounts")
@click.pass_obj
def list_accounts_cmd(db) -> None:
    """Accounts with their roles."""
    for account in Account.select().order_by(Account.created_at):
        click.echo(f"{account.id}\t{account.role}\t{account.name}")


@main.command("list-keys")
@click.argument("account_id")
@click.pass_obj
def list_keys_cmd(db, account_id: str) -> None:
    """Keys of an account (prefix only; tokens are never stored)."""
    for key in ApiKey.select().where(ApiKey.account == account_id).order_by(ApiKey.created_at):
        state = "revoked" if key.revoked_at else "live"
        click.echo(f"{key.id}\t{key.prefix}…\t{state}\t{key.label}")


for _command in admin_accounts.COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":
    main()
