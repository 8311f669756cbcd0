"""Signed, expiring upload URLs: an HMAC-SHA256 over a small JSON claim set, keyed by a server secret.

A token is `base64url(claims).base64url(mac)`; the MAC also covers a purpose string, so a token
minted for one kind of URL (a direct upload) is worthless for another (a multipart part).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

#: Bytes of a freshly generated secret.
SECRET_BYTES = 32


class InvalidSignature(Exception):
    """The token is malformed, was signed with another key or purpose, or has expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Mints and checks tokens with one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the signing secret must be at least 16 bytes")
        self._secret = secret

    @classmethod
    def from_file(cls, path: Path) -> Signer:
        """The signer whose secret is kept in `path`, created (mode 0600) on first use."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(SECRET_BYTES))
        return cls(bytes.fromhex(path.read_text().strip()))

    def sign(self, purpose: str, claims: dict[str, Any], expires_at: float) -> str:
        """A token carrying `claims` for `purpose`, valid until `expires_at` (UNIX seconds)."""
        body = _b64(json.dumps({**claims, "exp": int(expires_at)}, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._mac(purpose, body)}"

    def verify(self, purpose: str, token: str, now: float | None = None) -> dict[str, Any]:
        """The claims of a valid, unexpired token for `purpose`.

        Raises:
          InvalidSignature: anything is wrong with the token.
        """
        body, _, mac = token.partition(".")
        if not body or not mac.isascii() or not hmac.compare_digest(mac, self._mac(purpose, body)):
            raise InvalidSignature("the signature does not match")
        try:
            claims = json.loads(_unb64(body))
        except ValueError:
            raise InvalidSignature("the token is malformed") from None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
            raise InvalidSignature("the token is malformed")
        if claims["exp"] < (time.time() if now is None else now):
            raise InvalidSignature("the URL has expired")
        return claims

    def _mac(self, purpose: str, body: str) -> str:
        return _b64(hmac.new(self._secret, f"{purpose}\n{body}".encode(), hashlib.sha256).digest())
