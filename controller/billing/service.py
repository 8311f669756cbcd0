"""Billing state of the application (x402 configuration, facilitator) and the 402 of a refused request."""

from __future__ import annotations

from aiohttp import web

from controller.billing import quotes
from controller.billing.errors import InsufficientBalance, Shortfall
from controller.billing.facilitator import Facilitator
from controller.billing.x402 import X402Config
from controller.core.web import SETTINGS, STORE

X402 = web.AppKey("x402", X402Config)
#: a protocol, so the type is given as a parameter (AppKey wants a concrete class as an argument); None: no
#: facilitator is configured and payments are refused
FACILITATOR = web.AppKey[Facilitator | None]("facilitator")


async def refuse(app: web.Application, short: Shortfall, purpose: str) -> InsufficientBalance:
    """The 402 for a request refused for want of money, with a stored shortfall quote; raise it."""
    return await quotes.shortfall_error(app[STORE], app[X402], app[SETTINGS].base_url, short, purpose)
