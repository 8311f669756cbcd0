"""Admin operations, one function each. Writes run inside `Store.write` on the controller (the admin routes call
them there); the one exception is `controller.admin.bootstrap`, before any controller runs."""

from __future__ import annotations

import time
from dataclasses import dataclass

from controller.accounts import auth
from controller.accounts.models import Account, ApiKey
from controller.billing import accounts
from controller.billing.models import LedgerEntry
from controller.core.errors import ValidationFailed, field_error
from controller.core.web import not_found
from controller.feedback.models import Feedback
from controller.feedback.routes import TYPES
from controller.identity import wallets
from controller.identity.models import WalletIdentity


@dataclass(frozen=True)
class IssuedKey:
    """A new API key: its row and the token, which is shown once and never stored."""

    key: ApiKey
    token: str


def account(account_id: str) -> Account:
    """The account with this id.

    Raises:
      NotFound: there is none.
    """
    found = Account.get_or_none(Account.id == account_id)
    if found is None:
        raise not_found("account", account_id)
    return found


def check_role(role: str) -> str:
    """`role`, if it is one of `auth.USER_ROLES` (agents are made by `create_agent`).

    Raises:
      ValidationFailed: it is not.
    """
    if role not in auth.USER_ROLES:
        hint = "; agents come from POST /api/v1/admin/agents" if role == auth.AGENT_ROLE else ""
        raise ValidationFailed([field_error("role", f"must be one of: {', '.join(auth.USER_ROLES)}{hint}")])
    return role


def create_account(
    name: str, role: str = "member", credit_micro: int = 0, *, label: str = "created by an admin"
) -> tuple[Account, IssuedKey]:
    """A new account, its first API key, and its starting credit (a ledger entry) when `credit_micro` > 0."""
    created = auth.create_account(name, check_role(role))
    if credit_micro:
        accounts.credit(created.id, credit_micro, "starting credit")
    return created, issue_key(created.id, label)


def create_agent(name: str, *, label: str = "agent key") -> tuple[Account, IssuedKey]:
    """An agent's account (its id is the agent's id) and its key: the agent routes, for attempts it claims only."""
    created = auth.create_account(name, auth.AGENT_ROLE)
    return created, issue_key(created.id, label)


def issue_key(account_id: str, label: str = "") -> IssuedKey:
    """Another API key for an account."""
    token = auth.issue_key(account(account_id), label)
    return IssuedKey(ApiKey.get(ApiKey.key_hash == auth.hash_token(token)), token)


def revoke_key(key_id: str) -> None:
    """Revoke a live API key.

    Raises:
      NotFound: no live key has this id.
    """
    changed = ApiKey.update(revoked_at=time.time()).where(ApiKey.id == key_id, ApiKey.revoked_at.is_null()).execute()
    if not changed:
        raise not_found("key", key_id)


def credit(account_id: str, amount_micro: int, reason: str) -> LedgerEntry:
    """Credit an account, with the reason kept in its ledger.

    Raises:
      BalanceLimitExceeded: the account would hold more than `ledger.MAX_BALANCE_MICRO`.
    """
    return accounts.credit(account(account_id).id, amount_micro, reason)


def debit(account_id: str, amount_micro: int, reason: str) -> LedgerEntry:
    """Debit an account, at most its available balance.

    Raises:
      InsufficientFunds: the debit is larger than the available balance.
    """
    return accounts.debit(account(account_id).id, amount_micro, reason)


def whitelist_wallet(
    address: str, chain: str = "base", *, account_id: str | None = None, name: str = "", role: str = "member"
) -> WalletIdentity:
    """Allow a wallet to sign in, to `account_id` or else to a new $0 account.

    Raises:
      ValidationFailed: the address, chain, role or account is unknown or malformed.
    """
    target = Account.get_or_none(Account.id == account_id) if account_id is not None else None
    if target is not None and target.role == auth.AGENT_ROLE:
        raise ValidationFailed([field_error("account_id", "an agent's account cannot sign in with a wallet")])
    try:
        return wallets.whitelist(address, chain, account_id=account_id, name=name, role=check_role(role))
    except ValueError as exc:
        raise ValidationFailed([field_error("wallet_address", str(exc))]) from None


def unwhitelist_wallet(address: str) -> str:
    """Remove a wallet from the whitelist and end its sessions; returns the address as stored (lower case).

    Raises:
      ValidationFailed: the address is malformed.
      NotFound: the wallet is not whitelisted.
    """
    try:
        removed = wallets.unwhitelist(address)
    except ValueError as exc:
        raise ValidationFailed([field_error("wallet_address", str(exc))]) from None
    if not removed:
        raise not_found("wallet", address)
    return address.lower()


def list_accounts() -> list[Account]:
    """Every account, oldest first."""
    return list(Account.select().order_by(Account.created_at))


def list_keys(account_id: str) -> list[ApiKey]:
    """An account's API keys, oldest first (revoked ones included)."""
    return list(ApiKey.select().where(ApiKey.account == account(account_id).id).order_by(ApiKey.created_at))


def list_wallets() -> list[WalletIdentity]:
    """Whitelisted wallets, oldest first."""
    return list(WalletIdentity.select().where(WalletIdentity.revoked_at.is_null()).order_by(WalletIdentity.created_at))


def list_feedback(limit: int, before: int, kind: str | None = None) -> tuple[list[Feedback], int | None]:
    """A page of feedback, newest first, with ids below `before`, and the cursor of the next page (None: last page).

    Raises:
      ValidationFailed: `kind` is not a feedback type.
    """
    query = Feedback.select().where(Feedback.id < before)
    if kind:
        if kind not in TYPES:
            raise ValidationFailed([field_error("type", f"must be one of: {', '.join(TYPES)}")])
        query = query.where(Feedback.type == kind)
    rows = list(query.order_by(Feedback.id.desc()).limit(limit + 1))
    page = rows[:limit]
    return page, page[-1].id if len(rows) > limit else None
