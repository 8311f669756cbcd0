"""Wallet sign-in over HTTP with keys made in the test: whitelist, challenge, EIP-191 signature, fls_ session."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from controller.accounts.auth import hash_token
from controller.identity import wallets
from controller.identity.models import Session, WalletChallenge
from tests.controller.api_support import Api


def signature(key: Any, message: str) -> str:
    return "0x" + bytes(Account.sign_message(encode_defunct(text=message), key.key).signature).hex()


async def challenge(api: Api, address: str) -> dict[str, Any]:
    status, body, _ = await api.call(
        "POST", "/api/v1/auth/wallet/challenge", json={"wallet_address": address, "chain": "base"}
    )
    assert status == 200, body
    return body


async def verify(api: Api, body: dict[str, Any], address: str, signed: str) -> tuple[int, Any]:
    status, answer, _ = await api.call(
        "POST",
        "/api/v1/auth/wallet/verify",
        json={"challenge_id": body["challenge_id"], "wallet_address": address, "signature": signed},
    )
    return status, answer


async def whitelisted(api: Api) -> Any:
    key = Account.create()
    await api.write(wallets.whitelist, key.address)
    return key


async def test_a_whitelisted_wallet_signs_in_and_its_session_works_like_an_api_key(api: Api) -> None:
    # Given a wallet an admin whitelisted
    key = await whitelisted(api)

    # When it asks for a challenge, signs the message and verifies
    body = await challenge(api, key.address)
    assert body["challenge_id"].startswith("wch_") and body["chain_id"] == 8453
    assert key.address in body["message"] and "Chain ID: 8453" in body["message"]
    status, answer = await verify(api, body, key.address, signature(key, body["message"]))

    # Then it gets a 24-hour fls_ token, stored only as a hash, that authenticates like a key
    assert status == 200, answer
    token = answer["token"]
    assert token.startswith("fls_") and answer["account"]["role"] == "member"
    session = Session.get(Session.account == answer["account"]["id"])
    assert session.token_hash == hash_token(token) and token not in (session.token_hash, session.prefix)
    assert 24 * 3600 - 60 < session.expires_at - session.created_at <= 24 * 3600
    status, balance, _ = await api.call("GET", "/api/v1/account/balance", token)
    assert status == 200 and balance["account_id"] == answer["account"]["id"]
    assert (await api.call("POST", "/api/v1/projects", token, json={"name": "mine"}))[0] == 201


async def test_a_challenge_is_used_once(api: Api) -> None:
    key = await whitelisted(api)
    body = await challenge(api, key.address)
    signed = signature(key, body["message"])
    assert (await verify(api, body, key.address, signed))[0] == 200

    status, answer = await verify(api, body, key.address, signed)

    assert (status, answer["error"]["code"]) == (401, "challenge_used")


async def test_a_wallet_nobody_whitelisted_cannot_sign_in(api: Api) -> None:
    key = Account.create()
    body = await challenge(api, key.address)

    status, answer = await verify(api, body, key.address, signature(key, body["message"]))

    assert (status, answer["error"]["code"]) == (403, "wallet_not_whitelisted")
    assert WalletChallenge.get_by_id(body["challenge_id"]).used_at is not None


async def test_a_signature_by_another_key_is_refused_and_uses_up_the_challenge(api: Api) -> None:
    key = await whitelisted(api)
    body = await challenge(api, key.address)

    status, answer = await verify(api, body, key.address, signature(Account.create(), body["message"]))
    assert (status, answer["error"]["code"]) == (401, "wallet_signature_invalid")

    status, answer = await verify(api, body, key.address, signature(key, body["message"]))
    assert (status, answer["error"]["code"]) == (401, "challenge_used")


async def test_a_signature_of_another_message_is_refused(api: Api) -> None:
    key = await whitelisted(api)
    body = await challenge(api, key.address)
    status, answer = await verify(api, body, key.address, signature(key, body["message"] + " "))
    assert (status, answer["error"]["code"]) == (401, "wallet_signature_invalid")


async def test_an_expired_challenge_is_refused(api: Api) -> None:
    key = await whitelisted(api)
    body = await challenge(api, key.address)
    await api.write(lambda: WalletChallenge.update(expires_at=time.time() - 1).execute())

    status, answer = await verify(api, body, key.address, signature(key, body["message"]))

    assert (status, answer["error"]["code"]) == (401, "challenge_expired")


async def test_a_challenge_for_another_address_is_invalid(api: Api) -> None:
    key = await whitelisted(api)
    body = await challenge(api, key.address)
    other = Account.create()
    status, answer = await verify(api, body, other.address, signature(other, body["message"]))
    assert (status, answer["error"]["code"]) == (401, "challenge_invalid")


async def test_expired_and_revoked_sessions_stop_working(api: Api) -> None:
    # Given two signed-in sessions of one wallet
    key = await whitelisted(api)
    tokens = []
    for _ in range(2):
        body = await challenge(api, key.address)
        tokens.append((await verify(api, body, key.address, signature(key, body["message"])))[1]["token"])
    expiring, revoked = tokens

    # When one expires and the wallet is then removed from the whitelist
    await api.write(
        lambda: Session.update(expires_at=time.time() - 1).where(Session.token_hash == hash_token(expiring)).execute()
    )
    assert (await api.call("GET", "/api/v1/account/balance", revoked))[0] == 200
    assert await api.write(wallets.unwhitelist, key.address)

    # Then neither works any more, and the wallet cannot sign in again
    for token in tokens:
        status, body, _ = await api.call("GET", "/api/v1/account/balance", token)
        assert (status, body["error"]["code"]) == (401, "unauthorized")
    body = await challenge(api, key.address)
    assert (await verify(api, body, key.address, signature(key, body["message"])))[0] == 403


@pytest.mark.parametrize(
    "body",
    [{"wallet_address": "0x123"}, {"wallet_address": "0x" + "11" * 20, "chain": "ethereum"}, {"chain": "base"}, []],
)
async def test_a_malformed_challenge_request_is_invalid(api: Api, body: Any) -> None:
    status, answer, _ = await api.call("POST", "/api/v1/auth/wallet/challenge", json=body)
    assert (status, answer["error"]["code"]) == (422, "validation_failed")


async def test_sign_in_is_rate_limited_per_client_address(api: Api) -> None:
    address = Account.create().address
    statuses = [
        (await api.call("POST", "/api/v1/auth/wallet/challenge", json={"wallet_address": address}))[0]
        for _ in range(31)
    ]
    assert statuses == [200] * 30 + [429]


async def test_the_sdk_signs_in_with_a_private_key(api: Api) -> None:
    from computalot import ComputalotClient

    key = await whitelisted(api)
    url = str(api.client.make_url("/")).rstrip("/")

    def sign_in() -> tuple[dict[str, Any], dict[str, Any]]:
        with ComputalotClient(url, token=None) as client:
            answer = client.sign_in_with_wallet(key.key.hex())
            return answer, client.get_balance()

    answer, balance = await asyncio.get_running_loop().run_in_executor(None, sign_in)
    assert answer["token"].startswith("fls_") and balance["account_id"] == answer["account"]["id"]
