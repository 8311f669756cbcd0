"""The first admin of a deployment: the embedded platform's (token kept in the data dir), or `computalot-admin
bootstrap`'s; and the embedded platform's agent (its agent key kept beside the admin token). All go through
`controller.admin.service`."""

from __future__ import annotations

import os
from pathlib import Path

from controller.accounts.auth import AGENT_ROLE, resolve_token
from controller.accounts.models import Account
from controller.admin import service
from controller.billing import accounts, ledger
from controller.core.errors import Conflict, Unauthorized

TOKEN_FILE = "admin-token"
#: The embedded agent's key, beside the admin token.
AGENT_TOKEN_FILE = "agent-token"
#: Name of the embedded agent's account.
EMBEDDED_AGENT = "embedded agent"
#: Credited once to the embedded admin (a ledger entry), so a local install runs jobs from the start.
ADMIN_CREDIT_MICRO = 10_000 * ledger.MICRO_PER_USD


def first_admin(name: str, credit_micro: int = 0) -> tuple[Account, service.IssuedKey]:
    """An admin account and its first key, only while the database holds no admin (call inside a transaction).

    Raises:
      Conflict: an admin account exists already; it makes the next ones through the admin API.
    """
    existing = Account.get_or_none(Account.role == "admin")
    if existing is not None:
        raise Conflict(
            f"an admin account exists already ({existing.id})",
            recommended_action="Create more accounts with a running controller: computalot-admin create-account.",
        )
    return service.create_account(name, "admin", credit_micro, label="created by computalot-admin bootstrap")


def ensure_admin_token(data_dir: Path) -> str:
    """The embedded admin's token: read from `<data_dir>/admin-token`, or created (with the account) on first start.

    Call inside a write transaction.
    """
    path = data_dir / TOKEN_FILE
    if path.is_file():
        token = path.read_text().strip()
        try:
            _credit_once(resolve_token(f"Bearer {token}"))
            return token
        except Unauthorized:
            pass  # the key was revoked or the database replaced: issue a new one below
    admin = Account.get_or_none(Account.name == "admin", Account.role == "admin")
    if admin is None:
        admin, issued = service.create_account("admin", "admin", label="embedded admin")
    else:
        issued = service.issue_key(admin.id, "embedded admin")
    _credit_once(admin)
    write_secret(path, issued.token)
    return issued.token


def ensure_agent_token(data_dir: Path) -> str:
    """The embedded agent's key: read from `<data_dir>/agent-token`, or created (with its agent account) on first
    start. The embedded agent never sees the admin token. Call inside a write transaction.
    """
    path = data_dir / AGENT_TOKEN_FILE
    if path.is_file():
        token = path.read_text().strip()
        try:
            if resolve_token(f"Bearer {token}").role == AGENT_ROLE:
                return token
        except Unauthorized:
            pass  # the key was revoked or the database replaced: issue a new one below
    agent = Account.get_or_none(Account.name == EMBEDDED_AGENT, Account.role == AGENT_ROLE)
    if agent is None:
        agent, issued = service.create_agent(EMBEDDED_AGENT, label="embedded agent")
    else:
        issued = service.issue_key(agent.id, "embedded agent")
    write_secret(path, issued.token)
    return issued.token


def write_secret(path: Path, secret: str) -> None:
    """Write `secret` to `path`, readable by its owner only (mode 0600 from the start, never wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file that existed keeps its mode through O_CREAT: narrow it before writing
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")


def _credit_once(admin: Account) -> None:
    """The embedded admin's starting credit; its ledger ref makes it happen once per account."""
    accounts.credit_once(
        admin.id, ADMIN_CREDIT_MICRO, "starting credit of the embedded admin", ref=f"bootstrap:{admin.id}"
    )
