"""x402 verification with real eth-account signatures: a good authorization passes, each flaw is refused with
its own code."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from controller.billing import errors, x402
from controller.core.errors import TooDeep

CONFIG = x402.X402Config(pay_to="0x1111111111111111111111111111111111111111")
AMOUNT = 5_000_000
NOW = time.time()


def sign(key: Any, message: dict[str, Any], *, chain_id: int = 8453, asset: str = x402.BASE_USDC) -> str:
    """EIP-712 signature of a USDC TransferWithAuthorization, written out here independently of the controller."""
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "TransferWithAuthorization": [
                {"name": n, "type": t}
                for n, t in (
                    ("from", "address"),
                    ("to", "address"),
                    ("value", "uint256"),
                    ("validAfter", "uint256"),
                    ("validBefore", "uint256"),
                    ("nonce", "bytes32"),
                )
            ],
        },
        "primaryType": "TransferWithAuthorization",
        "domain": {"name": "USD Coin", "version": "2", "chainId": chain_id, "verifyingContract": asset},
        "message": {**message, **{k: int(message[k]) for k in ("value", "validAfter", "validBefore")}},
    }
    return "0x" + bytes(Account.sign_message(encode_typed_data(full_message=typed), key.key).signature).hex()


def payment(key: Any = None, signer: Any = None, accepted: dict[str, Any] | None = None, **changes: Any) -> dict:
    """A version 2 payment payload, signed by `signer` (default: the `from` key) after applying `changes`."""
    key = key or Account.create()
    message = {
        "from": key.address,
        "to": CONFIG.pay_to,
        "value": str(AMOUNT),
        "validAfter": str(int(NOW) - 60),
        "validBefore": str(int(NOW) + 600),
        "nonce": "0x" + secrets.token_hex(32),
        **changes.pop("message", {}),
    }
    signature = sign(signer or key, message, **changes)
    return {
        "x402Version": 2,
        "accepted": accepted or x402.requirements(CONFIG, AMOUNT),
        "payload": {"signature": signature, "authorization": message},
    }


def test_a_correct_authorization_is_accepted_with_its_payer_and_nonce() -> None:
    key = Account.create()
    body = payment(key)

    auth = x402.verify(body, CONFIG, AMOUNT, NOW)

    assert auth.payer == key.address
    assert auth.value == AMOUNT and auth.nonce == body["payload"]["authorization"]["nonce"].lower()


def test_paying_more_than_the_quote_is_refused_as_the_exact_scheme_moves_exactly_the_quote() -> None:
    # Given a correctly signed authorization for one unit more than the quote
    body = payment(message={"value": str(AMOUNT + 1)})

    # When it is verified, Then it is refused: what is credited is always the quote's amount
    with pytest.raises(errors.PaymentAmountTooHigh):
        x402.verify(body, CONFIG, AMOUNT, NOW)


def test_an_authorization_above_the_largest_amount_is_refused_before_its_signature_is_checked() -> None:
    # Given an authorization for 2**62 units that its `from` address did not even sign
    body = payment(signer=Account.create(), message={"value": str(2**62)})

    # When it is verified against a quote of that very amount
    # Then the amount is refused first (not the signature), so nothing downstream ever sees such a value
    with pytest.raises(errors.PaymentAmountTooHigh):
        x402.verify(body, CONFIG, 2**62, NOW)


def test_a_header_round_trips_through_base64_json() -> None:
    body = payment()
    assert x402.decode_header(x402.encode_header(body)) == body


@pytest.mark.parametrize(
    ("build", "refusal"),
    [
        (lambda: payment(signer=Account.create()), errors.PaymentSignatureInvalid),
        (lambda: payment(chain_id=1), errors.PaymentSignatureInvalid),
        (lambda: payment(asset="0x" + "22" * 20), errors.PaymentSignatureInvalid),
        (lambda: payment(message={"to": "0x" + "33" * 20}), errors.PaymentWrongRecipient),
        (lambda: payment(message={"value": str(AMOUNT - 1)}), errors.PaymentAmountTooLow),
        (lambda: payment(message={"value": str(AMOUNT + 1)}), errors.PaymentAmountTooHigh),
        (lambda: payment(message={"validBefore": str(int(NOW) - 1)}), errors.PaymentExpired),
        (lambda: payment(message={"validBefore": str(int(NOW) + 3)}), errors.PaymentExpired),
        (lambda: payment(message={"validAfter": str(int(NOW) + 60)}), errors.PaymentNotYetValid),
        (
            lambda: payment(accepted={**x402.requirements(CONFIG, AMOUNT), "network": "eip155:1"}),
            errors.PaymentWrongNetwork,
        ),
        (
            lambda: payment(accepted={**x402.requirements(CONFIG, AMOUNT), "asset": "0x" + "44" * 20}),
            errors.PaymentWrongNetwork,
        ),
        (lambda: payment(accepted={**x402.requirements(CONFIG, AMOUNT), "scheme": "upto"}), errors.PaymentWrongNetwork),
    ],
    ids=[
        "forged signature",
        "signed for another chain",
        "signed for another token",
        "wrong recipient",
        "too little",
        "too much",
        "expired",
        "expires before it can settle",
        "not yet valid",
        "wrong network",
        "wrong asset",
        "wrong scheme",
    ],
)
def test_each_flawed_authorization_is_refused_with_its_code(build: Any, refusal: type) -> None:
    with pytest.raises(refusal) as refused:
        x402.verify(build(), CONFIG, AMOUNT, NOW)
    assert refused.value.code.startswith("payment_")


def tampered(field: str, value: Any) -> dict:
    """A correctly signed payment whose authorization was changed after signing."""
    body = payment()
    body["payload"]["authorization"][field] = value
    return body


@pytest.mark.parametrize(
    "body",
    [
        tampered("value", str(AMOUNT * 10)),
        tampered("from", Account.create().address),
        tampered("nonce", "0x" + "00" * 32),
    ],
    ids=["raised value", "other from", "other nonce"],
)
def test_an_authorization_changed_after_signing_is_refused(body: dict) -> None:
    with pytest.raises(errors.PaymentSignatureInvalid):
        x402.verify(body, CONFIG, AMOUNT, NOW)


@pytest.mark.parametrize(
    "body",
    [
        {"x402Version": 1, "payload": {}},
        {"x402Version": 2, "accepted": x402.requirements(CONFIG, AMOUNT)},
        {**payment(), "payload": {"signature": "0x00", "authorization": {"from": "nobody"}}},
        {**payment(), "payload": {"signature": 7, "authorization": {}}},
        tampered("nonce", "0x1234"),
        tampered("value", "-5"),
    ],
    ids=["version 1", "no payload", "bad address", "signature not text", "short nonce", "negative value"],
)
def test_a_malformed_payment_is_refused_as_malformed(body: dict) -> None:
    with pytest.raises(errors.PaymentMalformed):
        x402.verify(body, CONFIG, AMOUNT, NOW)


@pytest.mark.parametrize(
    "header", ["not base64!", base64.b64encode(b"[1, 2]").decode(), base64.b64encode(b"{").decode()]
)
def test_a_header_that_is_not_base64_json_of_an_object_is_malformed(header: str) -> None:
    with pytest.raises(errors.PaymentMalformed):
        x402.decode_header(header)


def test_garbage_signature_bytes_are_an_invalid_signature() -> None:
    body = payment()
    body["payload"]["signature"] = "0x" + "ab" * 65
    with pytest.raises(errors.PaymentSignatureInvalid):
        x402.verify(body, CONFIG, AMOUNT, NOW)


def test_the_payment_required_object_names_the_usdc_contract_amount_and_recipient() -> None:
    required = x402.payment_required(CONFIG, 1_230_000, "http://x/api/v1/account/quotes/q/pay/x402", "top-up")

    assert required["x402Version"] == 2
    (accepts,) = required["accepts"]
    assert accepts == {
        "scheme": "exact",
        "network": "eip155:8453",
        "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
        "amount": "1230000",
        "payTo": CONFIG.pay_to,
        "maxTimeoutSeconds": 600,
        "extra": {"name": "USD Coin", "version": "2"},
    }
    assert json.loads(base64.b64decode(x402.encode_header(required))) == required


def test_a_facilitator_without_a_pay_to_address_is_a_configuration_error() -> None:
    from controller.core.settings import ConfigError

    with pytest.raises(ConfigError):
        x402.config_from("", "eip155:8453", x402.BASE_USDC, "https://facilitator.example")
    assert x402.config_from("", "eip155:8453", x402.BASE_USDC, "").pay_to == x402.LOCAL_PAY_TO


@pytest.mark.parametrize("json_text", [b"[" * 6000, b'{"a":' * 1200])
def test_a_payment_signature_nested_past_the_limit_is_too_deep_not_a_crash(json_text: bytes) -> None:
    # Given a header of base64 JSON nested thousands of levels (it fits an 8 KiB header; json.loads recursed on it)
    header = base64.b64encode(json_text).decode()
    # When it is decoded, Then it is refused as too deep before any decoding
    with pytest.raises(TooDeep):
        x402.decode_header(header)
