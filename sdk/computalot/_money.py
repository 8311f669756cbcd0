"""Funding and wallet sign-in for `ComputalotClient`: x402 top-ups, paying quotes, signing in with a key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote as _quote

from . import _x402
from .errors import ComputalotError, PaymentRequired

if TYPE_CHECKING:
    from .client import ComputalotClient


def payment_required(client: ComputalotClient, path: str, **kwargs: Any) -> dict[str, Any]:
    """POST `path`, which answers 402 with x402 requirements; returns that body (`quote`, `accepts`, ...)."""
    try:
        answer = client._json("POST", path, **kwargs)
    except PaymentRequired as exc:
        if isinstance(exc.body, dict) and exc.body.get("accepts"):
            return exc.body
        raise
    raise ComputalotError(f"POST {path} answered 2xx instead of 402: {answer!r}", code="unexpected_answer")


def create_topup_quote(client: ComputalotClient, amount_usd: float | str) -> dict[str, Any]:
    """A top-up quote and its x402 requirements: `{quote, x402Version, accepts, ...}`."""
    return payment_required(client, "/api/v1/account/quotes/topup", json={"amount_usd": amount_usd})


def pay_quote(client: ComputalotClient, quote_id: str, private_key: str) -> dict[str, Any]:
    """Pay an open quote (top-up or shortfall) with a USDC authorization signed by `private_key`.

    Returns `{quote, credited_usd, transaction, network, payer, balance, payment_response}`.
    """
    path = f"/api/v1/account/quotes/{_quote(quote_id, safe='')}/pay/x402"
    required = payment_required(client, path)
    header = _x402.payment_header(required["accepts"][0], private_key, resource_url=client.controller_url + path)
    response = client._send("POST", path, headers={"PAYMENT-SIGNATURE": header})
    answer = response.json()
    if "PAYMENT-RESPONSE" in response.headers:
        answer["payment_response"] = _x402.decode_header(response.headers["PAYMENT-RESPONSE"])
    return answer


def sign_in(client: ComputalotClient, private_key: str, chain: str = "base") -> dict[str, Any]:
    """Sign in with a whitelisted wallet's key; the client then sends the `fls_` session token it got."""
    address = _x402.address_of(private_key)
    challenge = client._json("POST", "/api/v1/auth/wallet/challenge", json={"wallet_address": address, "chain": chain})
    answer = client._json(
        "POST",
        "/api/v1/auth/wallet/verify",
        json={
            "challenge_id": challenge["challenge_id"],
            "wallet_address": address,
            "signature": _x402.sign_message(challenge["message"], private_key),
        },
    )
    client._http.headers["Authorization"] = f"Bearer {answer['token']}"
    return answer
