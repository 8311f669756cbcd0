"""Signed upload URLs: HMAC tokens bound to a purpose, a secret and an expiry."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from controller.artifacts.signing import InvalidSignature, Signer

SECRET = b"0123456789abcdef0123456789abcdef"


def test_a_token_verifies_to_its_claims() -> None:
    # Given a token for a direct upload
    signer = Signer(SECRET)
    token = signer.sign("direct", {"a": "acc_1", "n": 5}, time.time() + 60)

    # Then it verifies, giving back its claims and expiry
    claims = signer.verify("direct", token)
    assert claims["a"] == "acc_1" and claims["n"] == 5 and claims["exp"] > time.time()


def test_a_token_is_refused_for_another_purpose_or_secret() -> None:
    signer = Signer(SECRET)
    token = signer.sign("direct", {"a": "acc_1"}, time.time() + 60)
    with pytest.raises(InvalidSignature):
        signer.verify("part", token)
    with pytest.raises(InvalidSignature):
        Signer(b"another secret of 32 bytes......").verify("direct", token)


def test_a_tampered_token_is_refused() -> None:
    # Given a token whose claims are swapped for another account's
    signer = Signer(SECRET)
    token = signer.sign("direct", {"a": "acc_1"}, time.time() + 60)
    other = signer.sign("direct", {"a": "acc_2"}, time.time() + 60)
    forged = other.split(".")[0] + "." + token.split(".")[1]

    # Then the signature does not match
    for bad in (forged, token + "x", "garbage", "", "a.b.c"):
        with pytest.raises(InvalidSignature):
            signer.verify("direct", bad)


def test_an_expired_token_is_refused() -> None:
    signer = Signer(SECRET)
    token = signer.sign("direct", {}, time.time() + 10)
    assert signer.verify("direct", token, now=time.time())
    with pytest.raises(InvalidSignature, match="expired"):
        signer.verify("direct", token, now=time.time() + 11)


def test_the_secret_is_created_once_private_and_kept(tmp_path: Path) -> None:
    # Given no secret file yet
    path = tmp_path / "data" / "artifact-signing-key"

    # When two signers are loaded from it
    first, second = Signer.from_file(path), Signer.from_file(path)

    # Then the file is private and both sign alike
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    token = first.sign("direct", {"x": 1}, time.time() + 60)
    assert second.verify("direct", token)["x"] == 1


def test_a_token_whose_mac_is_not_ascii_is_refused_as_invalid() -> None:
    # Given a valid token whose MAC is replaced by non-ASCII text (hmac.compare_digest raises TypeError on those)
    signer = Signer(SECRET)
    body = signer.sign("direct", {"a": "acc_1"}, time.time() + 60).partition(".")[0]
    # When it is verified, Then it is an invalid signature, not a crash
    with pytest.raises(InvalidSignature):
        signer.verify("direct", f"{body}.é")
