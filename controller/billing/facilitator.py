"""Facilitators settle verified x402 payments: `HttpFacilitator` asks a real one; the local-dev one only records
them, so it runs only when an operator chooses it for development."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from controller.core.settings import LOCAL_DEV_FACILITATOR

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
    """`local-dev`: the verified authorization, stored with its payment, is the record; no funds move.

    Anyone can sign an authorization from an empty wallet, so with this facilitator every member can credit
    itself: development and tests only, chosen explicitly (`--x402-facilitator local-dev`; the embedded `up`
    chooses it and says so). Production points COMPUTALOT_X402_FACILITATOR at a real one.
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


def build(setting: str) -> Facilitator | None:
    """The facilitator `Settings.x402_facilitator` names: a URL's, the local-dev one, or None (payments refused)."""
    if setting == LOCAL_DEV_FACILITATOR:
        return LocalFacilitator()
    return HttpFacilitator(setting) if setting else None
