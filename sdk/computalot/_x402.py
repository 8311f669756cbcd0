"""Signatures for x402 payments and wallet sign-in. Needs eth-account: `pip install 'computalot[x402]'`."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

#: x402 protocol version the controller speaks
X402_VERSION = 2
#: validAfter is set this far in the past, so a controller whose clock lags a little still accepts it
_CLOCK_SLACK_S = 60


def _eth_account() -> Any:
    """The eth-account module, imported on first use (an optional dependency of the SDK)."""
    try:
        import eth_account
        import eth_account.messages
    except ImportError as exc:
        raise ImportError("x402 payments and wallet sign-in need eth-account: pip install 'computalot[x402]'") from exc
    return eth_account


def address_of(private_key: str) -> str:
    """The EIP-55 address of a private key (0x-prefixed hex)."""
    return _eth_account().Account.from_key(private_key).address


def sign_message(message: str, private_key: str) -> str:
    """An EIP-191 personal-message signature of `message` (what wallet sign-in asks for), 0x-prefixed hex."""
    eth = _eth_account()
    signed = eth.Account.sign_message(eth.messages.encode_defunct(text=message), private_key)
    return "0x" + bytes(signed.signature).hex()


def payment_header(
    requirements: dict[str, Any], private_key: str, *, resource_url: str = "", now: float | None = None
) -> str:
    """The PAYMENT-SIGNATURE header paying `requirements` (one entry of a 402's `accepts`).

    Signs an EIP-3009 TransferWithAuthorization of exactly `amount` to `payTo` as EIP-712 typed data,
    valid from a minute ago for `maxTimeoutSeconds`, with a fresh random nonce.
    """
    eth = _eth_account()
    account = eth.Account.from_key(private_key)
    issued = int(time.time() if now is None else now)
    message = {
        "from": account.address,
        "to": requirements["payTo"],
        "value": int(requirements["amount"]),
        "validAfter": max(0, issued - _CLOCK_SLACK_S),
        "validBefore": issued + int(requirements.get("maxTimeoutSeconds", 600)),
        "nonce": "0x" + secrets.token_hex(32),
    }
    signed = eth.Account.sign_message(
        eth.messages.encode_typed_data(full_message=_typed_data(requirements, message)), private_key
    )
    payment = {
        "x402Version": X402_VERSION,
        "resource": {"url": resource_url},
        "accepted": requirements,
        "payload": {
            "signature": "0x" + bytes(signed.signature).hex(),
            "authorization": {key: str(value) for key, value in message.items()},
        },
    }
    return base64.b64encode(json.dumps(payment, separators=(",", ":")).encode()).decode()


def decode_header(value: str) -> dict[str, Any]:
    """The object in a base64 JSON x402 header (PAYMENT-REQUIRED, PAYMENT-RESPONSE)."""
    return json.loads(base64.b64decode(value))


def _typed_data(requirements: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    extra = requirements.get("extra") or {}
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "TransferWithAuthorization": [
                {"name": "from", "type": "address"},
                {"name": "to", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "validAfter", "type": "uint256"},
                {"name": "validBefore", "type": "uint256"},
                {"name": "nonce", "type": "bytes32"},
            ],
        },
        "primaryType": "TransferWithAuthorization",
        "domain": {
            "name": extra.get("name", "USD Coin"),
            "version": extra.get("version", "2"),
            "chainId": int(str(requirements["network"]).split(":", 1)[1]),
            "verifyingContract": requirements["asset"],
        },
        "message": message,
    }
