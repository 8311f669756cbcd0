"""First start of an embedded platform: an admin account whose token is kept in the data dir."""

from __future__ import annotations

import os
from pathlib import Path

from controller.accounts.auth import create_account, issue_key, resolve_token
from controller.accounts.models import Account
from controller.billing import accounts, ledger
from controller.core.errors import Unauthorized

TOKEN_FILE = "admin-token"
#: Credited once to the embedded admin (a ledger entry), so a local install runs jobs from the start.
ADMIN_CREDIT_MICRO = 10_000 * ledger.MICRO_PER_USD


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
    admin = Account.get_or_none(Account.name == "admin", Account.role == "admin") or create_account("admin", "admin")
    token = issue_key(admin, label="embedded admin")
    _credit_once(admin)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    return token


def _credit_once(admin: Account) -> None:
    """The embedded admin's starting credit; its ledger ref makes it happen once per account."""
    accounts.credit(admin.id, ADMIN_CREDIT_MICRO, "starting credit of the embedded admin", ref=f"bootstrap:{admin.id}")
