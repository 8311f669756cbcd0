"""The controller app on a loopback server, with helpers to make accounts and tokens (import the fixture)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from controller.accounts.auth import create_account, issue_key
from controller.app import create_app
from controller.billing import accounts
from controller.core.settings import Settings
from controller.core.web import STORE


@dataclass
class Api:
    """A running controller and a way to make accounts on it."""

    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def app(self) -> Any:
        return self.client.app

    async def write(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self.app[STORE].write(fn, *args)

    async def token(self, role: str = "member", credit_micro: int = 0, name: str = "t") -> str:
        """A new account's API key."""

        def make() -> str:
            account = create_account(name, role)
            if credit_micro:
                accounts.credit(account.id, credit_micro, "test credit")
            return issue_key(account)

        return await self.write(make)

    def headers(self, token: str | None, **extra: str) -> dict[str, str]:
        return {**({"Authorization": f"Bearer {token}"} if token else {}), **extra}

    async def call(
        self, method: str, path: str, token: str | None = None, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> tuple[int, Any, Any]:
        """(status, decoded JSON body, response headers)."""
        response = await self.client.request(method, path, headers=self.headers(token, **(headers or {})), **kw)
        body = await response.json() if response.content_type == "application/json" else await response.text()
        return response.status, body, response.headers


ApiFactory = Callable[..., Awaitable[Api]]


@pytest.fixture
def make_api(aiohttp_client: Any, tmp_path: Path) -> ApiFactory:
    """Start a controller with `Settings(data_dir=tmp_path, **settings)`, without its background loops unless
    `background=True` (see `create_app`: tasks stay pending, nothing is dispatched or reaped)."""

    async def make(*, background: bool = False, **settings: Any) -> Api:
        app = create_app(Settings(data_dir=tmp_path, **settings), background=background)
        return Api(await aiohttp_client(app))

    return make


@pytest.fixture
async def api(make_api: ApiFactory) -> Api:
    """A controller with default settings (SQLite, memory broker, no x402 facilitator) and no background loops."""
    return await make_api()
