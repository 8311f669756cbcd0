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

#: Roles of people's accounts (made by `create-account`, wallet sign-in, the first admin).
USER_ROLES = ("admin", "member", "viewer")
#: The role of an agent's account (`create-agent`): its keys reach the agent routes only.
AGENT_ROLE = "agent"
ROLES = (*USER_ROLES, AGENT_ROLE)
#: Every route an agent key may call, and only agent keys may call, lies under this prefix.
AGENT_PATHS = "/api/v1/agent/"

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
    # an agent's account id is its agent_id in claims, heartbeats and task records
    return Account.create(
        id=new_id("agt" if role == AGENT_ROLE else "acc"),
        name=name,
        role=role,
        webhook_secret=secrets.token_hex(32),
        created_at=time.time(),
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


def require_agent(account: Account) -> None:
    """Refuse every account but agents'."""
    if account.role != AGENT_ROLE:
        raise Forbidden(
            "the agent routes need an agent key",
            recommended_action="Run agents with a key from computalot-admin create-agent, never an admin token.",
        )


def check_scope(path: str, account: Account) -> None:
    """Keep agent keys on the agent routes, and every other key off them.

    Raises:
      Forbidden: an agent key outside `AGENT_PATHS`, or another key inside.
    """
    if path.startswith(AGENT_PATHS):
        require_agent(account)
    elif account.role == AGENT_ROLE:
        raise Forbidden(
            "agent keys may only call the agent routes (/api/v1/agent/)",
            recommended_action="Use a member or admin key for this route.",
        )
