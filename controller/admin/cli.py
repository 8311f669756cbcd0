"""`computalot-admin`: accounts and API keys, through the admin API of a running controller.

Only `bootstrap` and `migrate` open the database themselves, before any controller runs: the first admin of a
deployment, and the schema migrations an upgrade brings.
"""

from __future__ import annotations

from pathlib import Path

import click

from controller import migrations
from controller.accounts.auth import USER_ROLES
from controller.admin import money_cli as admin_accounts
from controller.admin.bootstrap import first_admin, write_secret
from controller.admin.client import AdminContext, segment
from controller.core.errors import ComputalotError
from controller.core.settings import Settings


@click.group()
@click.option("--data-dir", type=click.Path(path_type=Path), help="Data dir of the controller (its admin-token file).")
@click.option("--database-url", help="Database URL, for bootstrap (env COMPUTALOT_DATABASE_URL).")
@click.option(
    "--url", envvar="COMPUTALOT_URL", show_envvar=True, help="Controller URL [default: the embedded platform's]."
)
@click.option(
    "--token",
    envvar="COMPUTALOT_ADMIN_TOKEN",
    show_envvar=True,
    help="Admin API key [default: <data-dir>/admin-token, the embedded admin's].",
)
@click.pass_context
def main(
    ctx: click.Context, data_dir: Path | None, database_url: str | None, url: str | None, token: str | None
) -> None:
    """Manage accounts and keys of a Computalot controller (through its admin API)."""
    ctx.obj = AdminContext(Settings.from_env(data_dir=data_dir, database_url=database_url), url, token)
    ctx.call_on_close(ctx.obj.close)


@main.command("bootstrap")
@click.argument("name")
@click.option("--credit-usd", default="0", show_default=True, help="Starting credit, as a ledger entry.")
@click.pass_obj
def bootstrap_cmd(obj: AdminContext, name: str, credit_usd: str) -> None:
    """Create the FIRST admin account of a new deployment, straight in the database, and print its API key.

    Run it before the controller starts (--database-url or --data-dir): it is the one command that writes to the
    database itself, and it refuses once an admin exists; further accounts come from create-account.
    """
    credit = admin_accounts.parse_amount(credit_usd) if credit_usd.strip() not in ("0", "") else 0
    db = obj.database()
    try:
        with db.atomic():
            account, issued = first_admin(name, credit)
    except ComputalotError as exc:
        raise click.ClickException(f"{exc.message}; {exc.recommended_action}") from None
    finally:
        db.close()
    click.echo(f"account {account.id} (admin)")
    click.echo(issued.token)


@main.command("migrate")
@click.pass_obj
def migrate_cmd(obj: AdminContext) -> None:
    """Apply the schema migrations the database lacks, in order, and print them.

    Run it after an upgrade, before starting a standalone controller (which refuses a database that lacks
    migrations); `computalot-server up` migrates its own database.
    """
    db = obj.unchecked_database()
    try:
        if migrations.adopt(db):
            click.echo(f"recorded {migrations.MIGRATIONS[0].label} as applied: the database predates migrations")
        applied = migrations.migrate(db)
    except migrations.SchemaOutOfDate as exc:
        raise click.ClickException(exc.message) from None
    finally:
        db.close()
    for migration in applied:
        click.echo(f"applied {migration.label}")
    if not applied:
        click.echo(f"up to date at {migrations.MIGRATIONS[-1].label}")


@main.command("create-account")
@click.argument("name")
@click.option("--role", type=click.Choice(USER_ROLES), default="member", show_default=True)
@click.option("--credit-usd", default="0", show_default=True, help="Starting credit, as a ledger entry.")
@click.pass_obj
def create_account_cmd(obj: AdminContext, name: str, role: str, credit_usd: str) -> None:
    """Create an account and print its first API key (shown once)."""
    body = {"name": name, "role": role}
    if credit_usd.strip() not in ("0", ""):
        admin_accounts.parse_amount(credit_usd)  # a usage error before any request
        body["credit_usd"] = credit_usd.strip()
    answer = obj.api.call("POST", "/api/v1/admin/accounts", json=body)
    click.echo(f"account {answer['account']['id']} ({role})")
    click.echo(answer["api_key"])


@main.command("create-agent")
@click.argument("name")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the agent key to this new file (mode 0600) instead of printing it.",
)
@click.pass_obj
def create_agent_cmd(obj: AdminContext, name: str, key_file: Path | None) -> None:
    """Create an agent and its key, for `computalot-agent --token-file` (the agent routes only)."""
    if key_file is not None and key_file.exists():
        raise click.ClickException(f"{key_file} exists already; name a new file")
    answer = obj.api.call("POST", "/api/v1/admin/agents", json={"name": name})
    click.echo(f"agent {answer['agent_id']}")
    if key_file is None:
        click.echo(answer["api_key"])
        return
    write_secret(key_file, answer["api_key"])
    click.echo(f"key written to {key_file}")


@main.command("issue-key")
@click.argument("account_id")
@click.option("--label", default="")
@click.pass_obj
def issue_key_cmd(obj: AdminContext, account_id: str, label: str) -> None:
    """Issue another API key for an account."""
    path = f"/api/v1/admin/accounts/{segment(account_id)}/keys"
    answer = obj.api.call("POST", path, json={"label": label}, missing=admin_accounts.no_account(account_id))
    click.echo(answer["api_key"])


@main.command("revoke-key")
@click.argument("key_id")
@click.pass_obj
def revoke_key_cmd(obj: AdminContext, key_id: str) -> None:
    """Revoke an API key by id (see list-keys)."""
    obj.api.call("DELETE", f"/api/v1/admin/keys/{segment(key_id)}", missing=f"no live key {key_id!r}")
    click.echo(f"revoked {key_id}")


@main.command("list-accounts")
@click.pass_obj
def list_accounts_cmd(obj: AdminContext) -> None:
    """Accounts with their roles."""
    for account in obj.api.call("GET", "/api/v1/admin/accounts")["accounts"]:
        click.echo(f"{account['id']}\t{account['role']}\t{account['name']}")


@main.command("list-keys")
@click.argument("account_id")
@click.pass_obj
def list_keys_cmd(obj: AdminContext, account_id: str) -> None:
    """Keys of an account (prefix only; tokens are never stored)."""
    path = f"/api/v1/admin/accounts/{segment(account_id)}/keys"
    for key in obj.api.call("GET", path, missing=admin_accounts.no_account(account_id))["keys"]:
        state = "revoked" if key["revoked_at"] else "live"
        click.echo(f"{key['id']}\t{key['prefix']}…\t{state}\t{key['label']}")


for _command in admin_accounts.COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":
    main()
