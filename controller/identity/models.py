"""Identity tables: admin-whitelisted wallets, their sign-in challenges and the `fls_` sessions they open."""

from __future__ import annotations

import peewee as pw

from controller.accounts.models import Account
from controller.core.models import BaseModel


class WalletIdentity(BaseModel):
    """A wallet an admin allowed to sign in, and the account it signs in to. Keyed by (chain, address)."""

    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, backref="wallets", on_delete="CASCADE")
    account_id: str
    #: "base"
    chain = pw.CharField(max_length=16)
    #: lower-case 0x address
    address = pw.CharField(max_length=42)
    label = pw.CharField(max_length=200, default="")
    created_at = pw.DoubleField()
    #: set when an admin removes the wallet from the whitelist; its sessions end with it
    revoked_at = pw.DoubleField(null=True)

    class Meta:
        indexes = ((("chain", "address"), True),)


class WalletChallenge(BaseModel):
    """A Sign-In with Ethereum message to sign; used at most once, within its expiry."""

    id = pw.CharField(primary_key=True, max_length=40)
    chain = pw.CharField(max_length=16)
    address = pw.CharField(max_length=42)
    message = pw.TextField()
    created_at = pw.DoubleField()
    expires_at = pw.DoubleField()
    used_at = pw.DoubleField(null=True)


class Session(BaseModel):
    """A wallet session token (`fls_…`); like API keys, only its hash is stored."""

    id = pw.CharField(primary_key=True, max_length=40)
    account = pw.ForeignKeyField(Account, backref="sessions", on_delete="CASCADE")
    account_id: str
    wallet = pw.ForeignKeyField(WalletIdentity, null=True, backref="sessions", on_delete="CASCADE")
    wallet_id: str | None
    token_hash = pw.CharField(max_length=64, unique=True)
    prefix = pw.CharField(max_length=16)
    created_at = pw.DoubleField()
    expires_at = pw.DoubleField(index=True)
    revoked_at = pw.DoubleField(null=True)


#: Part of `controller.schema.MODELS`.
IDENTITY_MODELS: list[type[BaseModel]] = [WalletIdentity, WalletChallenge, Session]
