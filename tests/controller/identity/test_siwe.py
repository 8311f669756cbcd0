"""Sign-In with Ethereum messages and signature recovery."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from controller.identity import siwe


def test_the_message_is_eip_4361_text_naming_domain_address_chain_nonce_and_times() -> None:
    key = Account.create()
    text = siwe.message(
        domain="computalot.example",
        uri="https://computalot.example",
        address=key.address.lower(),
        chain_id=8453,
        nonce="abc123def456",
        issued_at=1_700_000_000,
        expires_at=1_700_000_600,
    )
    lines = text.split("\n")
    assert lines[0] == "computalot.example wants you to sign in with your Ethereum account:"
    assert lines[1] == key.address  # EIP-55 checksummed
    assert lines[2] == "" and lines[3] == siwe.STATEMENT and lines[4] == ""
    assert lines[5:] == [
        "URI: https://computalot.example",
        "Version: 1",
        "Chain ID: 8453",
        "Nonce: abc123def456",
        "Issued At: 2023-11-14T22:13:20Z",
        "Expiration Time: 2023-11-14T22:23:20Z",
    ]


def test_recover_names_the_signer_of_a_personal_message() -> None:
    key = Account.create()
    signed = Account.sign_message(encode_defunct(text="hello"), key.key)
    assert siwe.recover("hello", "0x" + bytes(signed.signature).hex()) == key.address.lower()
    assert siwe.recover("hello!", "0x" + bytes(signed.signature).hex()) != key.address.lower()


@pytest.mark.parametrize("signature", ["0x", "0x1234", "not hex", "0x" + "00" * 65])
def test_an_unrecoverable_signature_is_a_value_error(signature: str) -> None:
    with pytest.raises(ValueError):
        siwe.recover("hello", signature)


@pytest.mark.parametrize("address", ["0x12", "nope", 42, "0x" + "g" * 40])
def test_malformed_addresses_are_refused(address: object) -> None:
    with pytest.raises(ValueError):
        siwe.normalize_address(address)
