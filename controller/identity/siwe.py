"""Sign-In with Ethereum (EIP-4361) messages and EIP-191 signature recovery (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import is_address, to_checksum_address

#: chain name -> EIP-155 chain id
CHAINS = {"base": 8453}
STATEMENT = "Sign in to Computalot. This request costs nothing and moves no funds."


def normalize_address(value: object) -> str:
    """The lower-case form of a 0x address.

    Raises:
      ValueError: not a 20-byte hex address (or a mixed-case one with a wrong EIP-55 checksum).
    """
    if not isinstance(value, str) or not is_address(value):
        raise ValueError("must be a 0x-prefixed 20-byte address")
    return value.lower()


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def message(
    *, domain: str, uri: str, address: str, chain_id: int, nonce: str, issued_at: float, expires_at: float
) -> str:
    """The EIP-4361 text the wallet signs: domain, EIP-55 address, statement, URI, chain id, nonce and times."""
    return "\n".join(
        [
            f"{domain} wants you to sign in with your Ethereum account:",
            to_checksum_address(address),
            "",
            STATEMENT,
            "",
            f"URI: {uri}",
            "Version: 1",
            f"Chain ID: {chain_id}",
            f"Nonce: {nonce}",
            f"Issued At: {rfc3339(issued_at)}",
            f"Expiration Time: {rfc3339(expires_at)}",
        ]
    )


def recover(text: str, signature: str) -> str:
    """The lower-case address that signed `text` as an EIP-191 personal message.

    Raises:
      ValueError: the signature is not a recoverable 65-byte signature.
    """
    try:
        return Account.recover_message(encode_defunct(text=text), signature=signature).lower()
    except Exception as exc:  # eth-account raises several types for malformed signatures
        raise ValueError(f"unrecoverable signature: {exc}") from None
