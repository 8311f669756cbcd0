"""JSON of what the admin API shows: accounts with their balances, API keys (never their tokens), wallets."""

from __future__ import annotations

from typing import Any

from controller.accounts.models import Account, ApiKey
from controller.billing import accounts
from controller.core.web import iso
from controller.identity.models import WalletIdentity


def account_json(account: Account) -> dict[str, Any]:
    """An account with its ledger balance, held and available dollars."""
    return {
        "id": account.id,
        "name": account.name,
        "role": account.role,
        "created_at": iso(account.created_at),
        **accounts.balance(account.id).to_json(),
    }


def key_json(key: ApiKey) -> dict[str, Any]:
    """An API key by its prefix; the token is never stored."""
    return {
        "id": key.id,
        "prefix": key.prefix,
        "label": key.label,
        "created_at": iso(key.created_at),
        "revoked_at": iso(key.revoked_at),
    }


def wallet_json(wallet: WalletIdentity) -> dict[str, Any]:
    """A whitelisted wallet and the account it signs in to."""
    return {
        "id": wallet.id,
        "chain": wallet.chain,
        "wallet_address": wallet.address,
        "account_id": wallet.account_id,
        "label": wallet.label,
        "created_at": iso(wallet.created_at),
    }
