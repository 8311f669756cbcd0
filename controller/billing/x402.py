"""x402 "exact" payments on EVM: payment requirements out, EIP-3009 authorizations in, verified with eth-account.

A client pays a quote by signing a USDC `TransferWithAuthorization` (EIP-3009) as EIP-712 typed data and
sending it, base64 JSON, in the PAYMENT-SIGNATURE header. `verify` checks everything that can be checked
without the chain: the signer, recipient, amount, validity window, network and asset. Nonce reuse is
refused by the database (`Payment.nonce` is unique); moving the funds is the facilitator's job.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import is_address, to_checksum_address

from controller.billing import ledger
from controller.billing.errors import (
    PaymentAmountTooHigh,
    PaymentAmountTooLow,
    PaymentExpired,
    PaymentMalformed,
    PaymentNotYetValid,
    PaymentSignatureInvalid,
    PaymentWrongNetwork,
    PaymentWrongRecipient,
)
from controller.core import json_depth
from controller.core.errors import BadRequest
from controller.core.settings import LOCAL_DEV_FACILITATOR, ConfigError

X402_VERSION = 2
#: Base mainnet, as a CAIP-2 network id
BASE_NETWORK = "eip155:8453"
#: USDC on Base
BASE_USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
#: Receiving address used when none is configured. Nobody holds its key: fine for the local-dev facilitator,
#: which never moves funds; a real facilitator requires COMPUTALOT_X402_PAY_TO (see `config_from`).
LOCAL_PAY_TO = to_checksum_address("0x" + hashlib.sha256(b"computalot local x402 pay-to").hexdigest()[:40])
#: An authorization must stay valid this long after it arrives, so the transfer can still be settled.
SETTLE_MARGIN_S = 6

_NONCE = re.compile(r"^0x[0-9a-fA-F]{64}$")

_TYPES = {
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
}


@dataclass(frozen=True)
class X402Config:
    """Where and in what top-ups are paid."""

    pay_to: str = LOCAL_PAY_TO
    network: str = BASE_NETWORK
    asset: str = BASE_USDC
    #: EIP-712 domain name and version of the asset contract
    asset_name: str = "USD Coin"
    asset_version: str = "2"
    #: how long a client may take between seeing the requirements and paying
    max_timeout_s: int = 600

    @property
    def chain_id(self) -> int:
        return int(self.network.split(":", 1)[1])


def config_from(pay_to: str, network: str, asset: str, facilitator: str) -> X402Config:
    """The x402 configuration of a controller's settings (`facilitator`: `Settings.x402_facilitator`).

    Raises:
      ConfigError: an address or network is malformed, or a facilitator URL is set without a pay-to address.
    """
    if facilitator not in ("", LOCAL_DEV_FACILITATOR) and not pay_to:
        raise ConfigError("COMPUTALOT_X402_FACILITATOR_URL needs COMPUTALOT_X402_PAY_TO, the platform's address")
    for name, value in (("COMPUTALOT_X402_PAY_TO", pay_to), ("COMPUTALOT_X402_ASSET", asset)):
        if value and not is_address(value):
            raise ConfigError(f"{name} must be a 0x-prefixed 20-byte address")
    if not re.fullmatch(r"eip155:\d+", network):
        raise ConfigError(f"COMPUTALOT_X402_NETWORK must be a CAIP-2 EVM network such as {BASE_NETWORK}")
    return X402Config(
        pay_to=to_checksum_address(pay_to or LOCAL_PAY_TO), network=network, asset=to_checksum_address(asset)
    )


def requirements(config: X402Config, amount_micro: int) -> dict[str, Any]:
    """One entry of `accepts`: pay `amount_micro` atomic USDC units to the platform."""
    return {
        "scheme": "exact",
        "network": config.network,
        "asset": config.asset,
        "amount": str(amount_micro),
        "payTo": config.pay_to,
        "maxTimeoutSeconds": config.max_timeout_s,
        "extra": {"name": config.asset_name, "version": config.asset_version},
    }


def payment_required(config: X402Config, amount_micro: int, resource_url: str, description: str) -> dict[str, Any]:
    """The PAYMENT-REQUIRED object of x402 version 2."""
    return {
        "x402Version": X402_VERSION,
        "error": "payment required",
        "resource": {"url": resource_url, "description": description, "mimeType": "application/json"},
        "accepts": [requirements(config, amount_micro)],
    }


def encode_header(value: dict[str, Any]) -> str:
    """Base64 of compact JSON, as x402 headers carry objects."""
    return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def decode_header(value: str) -> dict[str, Any]:
    """The object in a PAYMENT-SIGNATURE header.

    Raises:
      PaymentMalformed: not base64 of a JSON object.
      TooDeep: the JSON nests past the limit (checked before decoding, which recurses per level).
    """
    try:
        decoded = json_depth.loads(base64.b64decode(value.strip(), validate=True), what="PAYMENT-SIGNATURE")
    except (binascii.Error, ValueError, BadRequest):
        raise PaymentMalformed("PAYMENT-SIGNATURE is not base64-encoded JSON") from None
    if not isinstance(decoded, dict):
        raise PaymentMalformed("PAYMENT-SIGNATURE must encode a JSON object")
    return decoded


@dataclass(frozen=True)
class Authorization:
    """A verified EIP-3009 transfer authorization."""

    payer: str
    pay_to: str
    value: int
    valid_after: int
    valid_before: int
    nonce: str
    signature: str


def typed_data(config: X402Config, message: dict[str, Any]) -> dict[str, Any]:
    """The EIP-712 typed data of a TransferWithAuthorization on the configured asset and chain."""
    return {
        "types": _TYPES,
        "primaryType": "TransferWithAuthorization",
        "domain": {
            "name": config.asset_name,
            "version": config.asset_version,
            "chainId": config.chain_id,
            "verifyingContract": config.asset,
        },
        "message": message,
    }


def verify(payload: dict[str, Any], config: X402Config, amount_micro: int, now: float) -> Authorization:
    """Check a decoded PAYMENT-SIGNATURE against a quote of `amount_micro`, at UNIX time `now`.

    The `exact` scheme moves exactly the quote's amount: an authorization for any other value is refused, so what
    is credited is always the quote's amount.

    Raises:
      PaymentMalformed, PaymentWrongNetwork, PaymentAmountTooHigh, PaymentSignatureInvalid, PaymentWrongRecipient,
      PaymentAmountTooLow, PaymentNotYetValid, PaymentExpired: the first check that failed.
    """
    auth = _parse(payload, config)
    message = {
        "from": auth.payer,
        "to": auth.pay_to,
        "value": auth.value,
        "validAfter": auth.valid_after,
        "validBefore": auth.valid_before,
        "nonce": auth.nonce,
    }
    try:
        signer = Account.recover_message(
            encode_typed_data(full_message=typed_data(config, message)), signature=auth.signature
        )
    except Exception:  # eth-account raises several types for bad signature bytes
        raise PaymentSignatureInvalid("the signature does not recover to any address") from None
    if signer.lower() != auth.payer.lower():
        raise PaymentSignatureInvalid("the authorization was not signed by its `from` address")
    if auth.pay_to.lower() != config.pay_to.lower():
        raise PaymentWrongRecipient(f"the authorization pays {auth.pay_to}; pay {config.pay_to}")
    if auth.value < amount_micro:
        raise PaymentAmountTooLow(f"the authorization moves {auth.value} atomic units; the quote needs {amount_micro}")
    if auth.value > amount_micro:
        raise PaymentAmountTooHigh(
            f"the authorization moves {auth.value} atomic units; the quote is for exactly {amount_micro}"
        )
    if now < auth.valid_after:
        raise PaymentNotYetValid("the authorization's validAfter is in the future")
    if auth.valid_before <= now + SETTLE_MARGIN_S:
        raise PaymentExpired(f"the authorization expires too soon (validBefore must be over {SETTLE_MARGIN_S} s ahead)")
    return auth


def _parse(payload: dict[str, Any], config: X402Config) -> Authorization:
    if payload.get("x402Version") != X402_VERSION:
        raise PaymentMalformed(f"x402Version must be {X402_VERSION}")
    accepted = payload.get("accepted")
    inner = payload.get("payload")
    if not isinstance(accepted, dict) or not isinstance(inner, dict):
        raise PaymentMalformed("the payment needs `accepted` (the requirements paid) and `payload`")
    if accepted.get("scheme") != "exact" or accepted.get("network") != config.network:
        raise PaymentWrongNetwork(f"pay with scheme `exact` on {config.network}")
    if str(accepted.get("asset", config.asset)).lower() != config.asset.lower():
        raise PaymentWrongNetwork(f"pay in the asset {config.asset}")
    authorization, signature = inner.get("authorization"), inner.get("signature")
    if not isinstance(authorization, dict) or not isinstance(signature, str):
        raise PaymentMalformed("payload needs `signature` (hex) and `authorization`")
    try:
        payer, pay_to = (_address(authorization[k]) for k in ("from", "to"))
        value, valid_after, valid_before = (_uint(authorization[k]) for k in ("value", "validAfter", "validBefore"))
        nonce = str(authorization["nonce"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PaymentMalformed(f"authorization: {exc}") from None
    if not _NONCE.match(nonce):
        raise PaymentMalformed("authorization.nonce must be 32 bytes as 0x-prefixed hex")
    if value > ledger.MAX_AMOUNT_MICRO:  # no quote is ever this large; refused before anything else uses it
        raise PaymentAmountTooHigh(f"authorization.value is over {ledger.MAX_AMOUNT_MICRO}, the largest amount")
    return Authorization(payer, pay_to, value, valid_after, valid_before, nonce.lower(), signature)


def _address(value: Any) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"{value!r} is not an address")
    return to_checksum_address(value)


def _uint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{value!r} is not an unsigned integer")
    number = int(value)
    if not 0 <= number < 2**256:
        raise ValueError(f"{value!r} is out of range")
    return number


def settlement_header(success: bool, transaction: str, network: str, payer: str) -> str:
    """The PAYMENT-RESPONSE header."""
    return encode_header({"success": success, "transaction": transaction, "network": network, "payer": payer})
