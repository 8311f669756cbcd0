"""Facilitators settle verified x402 payments: the local one records them, `HttpFacilitator` asks a real one."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settlement:
    """A facilitator's answer: whether the transfer happened, and its transaction reference."""

    success: bool
    transaction: str = ""
    network: str = ""
    payer: str = ""
    error: str = ""


class Facilitator(Protocol):
    """Settles one payment that `controller.billing.x402.verify` accepted."""

    async def settle(self, payment: dict[str, Any], requirements: dict[str, Any], payer: str) -> Settlement:
        """Verify and execute the transfer; a refusal is `Settlement(success=False, error=…)`, never an exception."""
        ...


class LocalFacilitator:
    """The default: the verified authorization, stored with its payment, is the record; no funds move.

    Use it for local installs and tests. Production points COMPUTALOT_X402_FACILITATOR_URL at a real one.
    """

    async def settle(self, payment: dict[str, Any], requirements: dict[str, Any], payer: str) -> Settlement:
        signature = str((payment.get("payload") or {}).get("signature", ""))
        reference = "local:" + hashlib.sha256(signature.encode()).hexdigest()[:32]
        return Settlement(True, reference, requirements["network"], payer)


class HttpFacilitator:
    """An x402 facilitator's `/verify` then `/settle` over HTTP (x402 version 2 bodies)."""

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def settle(self, payment: dict[str, Any], requirements: dict[str, Any], payer: str) -> Settlement:
        body = {"x402Version": 2, "paymentPayload": payment, "paymentRequirements": requirements}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                verified = await self._post(session, "/verify", body)
                if not verified.get("isValid"):
                    return Settlement(False, payer=payer, error=str(verified.get("invalidReason") or "invalid"))
                settled = await self._post(session, "/settle", body)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            logger.warning("facilitator %s failed: %s", self.url, exc)
            return Settlement(False, payer=payer, error=f"facilitator unreachable: {exc}")
        if not settled.get("success"):
            return Settlement(False, payer=payer, error=str(settled.get("errorReason") or "settlement failed"))
        return Settlement(
            True,
            str(settled.get("transaction") or ""),
            str(settled.get("network") or requirements["network"]),
            str(settled.get("payer") or payer),
        )

    async def _post(self, session: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with session.post(self.url + path, json=body) as response:
            data = await response.json(content_type=None)
            if not isinstance(data, dict):
                raise ValueError(f"{path} answered {response.status} without a JSON object")
            return data


def build(url: str) -> Facilitator:
    """`HttpFacilitator(url)` when a URL is configured, else the local facilitator."""
    return HttpFacilitator(url) if url else LocalFacilitator()
