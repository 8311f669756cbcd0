"""API keys and the accounts they resolve to."""

from __future__ import annotations

import hashlib
import secrets
import time

from aiohttp import web

from controller.accounts.models import Account, ApiKey
from controller.core.errors import Forbidden, Unauthorized
from controller.core.ids import new_id

#: Prefix of admin-issued API keys.
KEY_PREFIX = "flk_"
#: Prefix of wallet session tokens (`controller.identity.sessions`).
SESSION_PREFIX = "fls_"

ROLES = ("admin", "member", "viewer")

#: the authenticated account of a request (set by the app's auth middleware)
ACCOUNT = web.RequestKey("account", Account)


def account_of(request: web.Request) -> Account:
    """The authenticated account (set by the auth middleware)."""
    return request[ACCOUNT]


def hash_token(token: str) -> str:
    """The at-rest form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_account(name: str, role: str = "member") -> Account:
    """A new account (call inside a write transaction)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    return Account.create(
        id=new_id("acc"), name=name, role=role, webhook_secret=secrets.token_hex(32), created_at=time.time()
    )


def issue_key(account: Account, label: str = "") -> str:
    """Create an API key for `account` and return the token; only its hash is stored."""
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    ApiKey.create(
        id=new_id("key", 8),
        account=account,
        key_hash=hash_token(token),
        prefix=token[:10],
        label=label,
        created_at=time.time(),
    )
    return token


def resolve_token(header: str | None) -> Account:
    """The account behind an `Authorization: Bearer …` header.

    Raises:
      Unauthorized: the header is missing, malformed, or names no live key.
    """
    if not header:
        raise Unauthorized("missing Authorization header")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    if not (token.isascii() and token.isprintable()):  # every token we issue is; other bytes cannot be hashed as text
        raise Unauthorized("invalid token: tokens are printable ASCII")
    if token.startswith(SESSION_PREFIX):
        from controller.identity import sessions  # sessions imports this module

        return sessions.resolve(token)
    key = (
        ApiKey.select(ApiKey, Account)
        .join(Account)
        .where(ApiKey.key_hash == hash_token(token), ApiKey.revoked_at.is_null())
        .first()
    )
    if key is None:
        raise Unauthorized("invalid or revoked token")
    return key.account


def require_writer(account: Account) -> None:
    """Refuse writes from viewer accounts."""
    if account.role == "viewer":
        raise Forbidden("viewer accounts are read-only", recommended_action="Use a member or admin key to write.")


def require_admin(account: Account) -> None:
    """Refuse non-admin accounts."""
    if account.role != "admin":
        raise Forbidden("this route needs an admin token")
