"""Wallet sign-in: admins whitelist wallets; a wallet signs a single-use challenge and gets a session.

Functions run inside a write transaction (`Store.write`).
"""

from __future__ import annotations

import secrets
import time

from controller.accounts.auth import create_account
from controller.accounts.models import Account
from controller.core.errors import ComputalotError
from controller.core.ids import new_id
from controller.identity import sessions, siwe
from controller.identity.errors import (
    ChallengeExpired,
    ChallengeInvalid,
    ChallengeUsed,
    WalletNotWhitelisted,
    WalletSignatureInvalid,
)
from controller.identity.models import Session, WalletChallenge, WalletIdentity

CHALLENGE_TTL_S = 600


def whitelist(
    address: str, chain: str = "base", *, account_id: str | None = None, name: str = "", role: str = "member"
) -> WalletIdentity:
    """Allow a wallet to sign in: to `account_id`, else to a new account (starting at $0) named after it.

    Raises:
      ValueError: the address, chain or account is unknown or malformed.
    """
    address = siwe.normalize_address(address)
    if chain not in siwe.CHAINS:
        raise ValueError(f"chain must be one of: {', '.join(siwe.CHAINS)}")
    existing = WalletIdentity.get_or_none(WalletIdentity.chain == chain, WalletIdentity.address == address)
    if existing is not None and existing.revoked_at is None:
        return existing
    if account_id is not None:
        account = Account.get_or_none(Account.id == account_id)
        if account is None:
            raise ValueError(f"no account {account_id!r}")
    elif existing is not None:
        account = existing.account
    else:
        account = create_account(name or f"wallet {address}", role)
    if existing is not None:
        existing.account, existing.revoked_at = account, None
        existing.save()
        return existing
    return WalletIdentity.create(
        id=new_id("wal", 8), account=account, chain=chain, address=address, label=name, created_at=time.time()
    )


def unwhitelist(address: str, chain: str = "base") -> bool:
    """Remove a wallet from the whitelist and end its sessions; returns whether it was whitelisted."""
    wallet = WalletIdentity.get_or_none(
        WalletIdentity.chain == chain,
        WalletIdentity.address == siwe.normalize_address(address),
        WalletIdentity.revoked_at.is_null(),
    )
    if wallet is None:
        return False
    now = time.time()
    wallet.revoked_at = now
    wallet.save()
    sessions.revoke_wallet(wallet.id, now)
    return True


def create_challenge(address: str, chain: str, domain: str, uri: str) -> WalletChallenge:
    """A challenge for any well-formed address (whether it is whitelisted is told only at verify)."""
    now = time.time()
    address = siwe.normalize_address(address)
    text = siwe.message(
        domain=domain,
        uri=uri,
        address=address,
        chain_id=siwe.CHAINS[chain],
        nonce=secrets.token_hex(16),
        issued_at=now,
        expires_at=now + CHALLENGE_TTL_S,
    )
    return WalletChallenge.create(
        id=new_id("wch"), chain=chain, address=address, message=text, created_at=now, expires_at=now + CHALLENGE_TTL_S
    )


def redeem(challenge_id: str, address: str, signature: str) -> tuple[str, Session] | ComputalotError:
    """Use a challenge (once, whatever the outcome) and open a session if the whitelisted wallet signed it.

    Returns the token and session, or the error to answer: it is returned, not raised, so that the
    challenge stays used when the transaction commits.
    """
    now = time.time()
    challenge = WalletChallenge.get_or_none(WalletChallenge.id == challenge_id)
    if challenge is None or challenge.address != address.lower():
        return ChallengeInvalid("no such challenge for this wallet address")
    used = (
        WalletChallenge.update(used_at=now)
        .where(WalletChallenge.id == challenge_id, WalletChallenge.used_at.is_null())
        .execute()
    )
    if not used:
        return ChallengeUsed("this challenge was already used")
    if challenge.expires_at <= now:
        return ChallengeExpired("this challenge expired")
    try:
        signer = siwe.recover(challenge.message, signature)
    except ValueError as exc:
        return WalletSignatureInvalid(str(exc))
    if signer != challenge.address:
        return WalletSignatureInvalid("the signature is not the wallet's signature of the challenge message")
    wallet = WalletIdentity.get_or_none(
        WalletIdentity.chain == challenge.chain,
        WalletIdentity.address == challenge.address,
        WalletIdentity.revoked_at.is_null(),
    )
    if wallet is None:
        return WalletNotWhitelisted(f"wallet {challenge.address} is not whitelisted on this platform")
    return sessions.issue(wallet.account_id, wallet.id, now)
