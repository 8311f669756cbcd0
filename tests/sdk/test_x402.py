"""The SDK's x402 and wallet signatures: eth-account is optional and imported only when used."""

from __future__ import annotations

import subprocess
import sys

import pytest
from computalot import _x402
from eth_account import Account
from eth_account.messages import encode_defunct


def test_importing_the_sdk_does_not_import_eth_account() -> None:
    code = "import sys, computalot; from computalot import ComputalotClient; print('eth_account' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_paying_without_eth_account_names_the_extra_to_install() -> None:
    code = (
        "import sys; sys.modules['eth_account'] = None\n"
        "from computalot import _x402\n"
        "try:\n    _x402.address_of('0x' + '11' * 32)\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'computalot[x402]'" in out


def test_a_sign_in_signature_recovers_to_the_key() -> None:
    key = Account.create()
    signature = _x402.sign_message("hello", key.key.hex())
    assert Account.recover_message(encode_defunct(text="hello"), signature=signature) == key.address
    assert _x402.address_of(key.key.hex()) == key.address


@pytest.mark.parametrize("amount", ["1", "12500000"])
def test_a_payment_header_authorizes_exactly_the_amount_to_the_recipient(amount: str) -> None:
    requirements = {
        "scheme": "exact",
        "network": "eip155:8453",
        "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
        "amount": amount,
        "payTo": "0x" + "ab" * 20,
        "maxTimeoutSeconds": 300,
        "extra": {"name": "USD Coin", "version": "2"},
    }
    key = Account.create()

    payment = _x402.decode_header(_x402.payment_header(requirements, key.key.hex(), now=1_000_000))

    auth = payment["payload"]["authorization"]
    assert payment["x402Version"] == 2 and payment["accepted"] == requirements
    assert (auth["from"], auth["to"], auth["value"]) == (key.address, requirements["payTo"], amount)
    assert (auth["validAfter"], auth["validBefore"]) == ("999940", "1000300")
    assert len(auth["nonce"]) == 66
