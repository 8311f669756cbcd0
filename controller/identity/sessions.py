"""Wallet session tokens (`fls_…`, 24 hours): issued at sign-in, accepted wherever an API key is."""

from __future__ import annotations

import secrets
import time

from controller.accounts.auth import SESSION_PREFIX, hash_token
from controller.accounts.models import Account
from controller.core.errors import Unauthorized
from controller.core.ids import new_id
from controller.identity.models import Session

SESSION_TTL_S = 24 * 3600


def issue(account_id: str, wallet_id: str | None, now: float) -> tuple[str, Session]:
    """A new session of `account_id` and its token (call inside a write transaction); only the hash is stored."""
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    session = Session.create(
        id=new_id("ses", 8),
        account=account_id,
        wallet=wallet_id,
        token_hash=hash_token(token),
        prefix=token[:10],
        created_at=now,
        expires_at=now + SESSION_TTL_S,
    )
    return token, session


def resolve(token: str) -> Account:
    """The account of a live session token.

    Raises:
      Unauthorized: unknown, expired or revoked.
    """
    session = (
        Session.select(Session, Account)
        .join(Account)
        .where(Session.token_hash == hash_token(token), Session.revoked_at.is_null(), Session.expires_at > time.time())
        .first()
    )
    if session is None:
        raise Unauthorized(
            "invalid, expired or revoked session token",
            recommended_action="Sign in again: POST /api/v1/auth/wallet/challenge, then /verify.",
        )
    return session.account


def revoke_wallet(wallet_id: str, now: float) -> int:
    """End every live session of a wallet; returns how many."""
    return Session.update(revoked_at=now).where(Session.wallet == wallet_id, Session.revoked_at.is_null()).execute()
