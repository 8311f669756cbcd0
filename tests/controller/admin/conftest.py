"""`computalot-admin` run against a controller on a loopback server (the CLI in a thread, the server on the loop)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from controller.admin.cli import main
from tests.controller.api_support import Api


@dataclass
class AdminCli:
    """`computalot-admin --url <the test server> --token <an admin key> …`."""

    api: Api
    data_dir: Path
    token: str

    @property
    def url(self) -> str:
        return str(self.api.client.make_url("")).rstrip("/")

    async def __call__(self, *args: str, token: str | None = None) -> Result:
        """Run one command in a thread, so the server keeps answering on the event loop."""
        argv = ["--data-dir", str(self.data_dir), "--url", self.url, "--token", token or self.token, *args]
        return await self.raw(*argv)

    async def raw(self, *argv: str, env: dict[str, str] | None = None) -> Result:
        """Run `computalot-admin` with exactly these arguments."""
        return await asyncio.to_thread(CliRunner().invoke, main, list(argv), env=env)


@pytest.fixture
async def admin_cli(api: Api, tmp_path: Path) -> AdminCli:
    """The admin command against `api`, with a fresh admin account's key."""
    return AdminCli(api, tmp_path / "cli", await api.token("admin", name="root"))
