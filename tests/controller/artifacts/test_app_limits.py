"""Artifact limits and upload expiry, on the controller app served by aiohttp's test server."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from controller.accounts.auth import create_account, issue_key
from controller.app import create_app
from controller.artifacts import multipart
from controller.artifacts.models import Artifact
from controller.artifacts.service import ARTIFACTS
from controller.core.settings import Settings
from controller.core.web import STORE

LIMIT = 1024 * 1024


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> Any:
    return await aiohttp_client(
        create_app(Settings(data_dir=tmp_path, max_artifact_bytes=LIMIT, upload_ttl_s=60), background=False)
    )


@pytest.fixture
async def headers(client: Any) -> dict[str, str]:
    token = await client.app[STORE].write(lambda: issue_key(create_account("limits")))
    return {"Authorization": f"Bearer {token}"}


async def body(size: int, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < size:
        yield b"x" * min(chunk, size - sent)
        sent += chunk


def stored_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_a_raw_upload_past_the_limit_is_refused_while_reading_and_leaves_nothing(
    client: Any, headers: dict[str, str], tmp_path: Path
) -> None:
    # Given a chunked body (no Content-Length) one chunk longer than the limit
    # When it is uploaded
    response = await client.post("/api/v1/artifacts", data=body(LIMIT + 64 * 1024), headers=headers)

    # Then it is refused with 413 and neither a row nor a file is left
    assert response.status == 413
    assert (await response.json())["error"]["details"]["limit_bytes"] == LIMIT
    assert Artifact.select().count() == 0
    assert stored_files(tmp_path / "artifacts") == []


async def test_a_declared_length_past_the_limit_is_refused_before_reading(client: Any, headers: dict[str, str]) -> None:
    response = await client.post("/api/v1/artifacts", data=b"x" * (LIMIT + 1), headers=headers)
    assert response.status == 413


async def test_an_upload_at_the_limit_is_accepted(client: Any, headers: dict[str, str]) -> None:
    response = await client.post(
        "/api/v1/artifacts", data=body(LIMIT), headers={**headers, "X-Artifact-Filename": "caf%C3%A9.bin"}
    )
    assert response.status == 201
    artifact = await response.json()
    assert artifact["size"] == LIMIT and artifact["filename"] == "café.bin"


async def test_expired_multipart_uploads_and_stale_staging_files_are_swept(
    client: Any, headers: dict[str, str], tmp_path: Path
) -> None:
    # Given a multipart upload with one part received, and a staged file abandoned long ago
    started = await client.post(
        "/api/v1/artifacts/multipart", json={"filename": "big.bin", "size": LIMIT, "part_size": LIMIT}, headers=headers
    )
    upload = await started.json()
    part_url = upload["parts"][0]["url"].split("://", 1)[1].split("/", 1)[1]
    assert (await client.put("/" + part_url, data=b"y" * LIMIT)).status == 200
    stale = tmp_path / "artifacts" / "staging" / "abandoned"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"z")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))

    # When the periodic sweep runs after the upload's expiry
    removed = await multipart.expire(client.app[ARTIFACTS], now=time.time() + 61)

    # Then the upload, its parts and the stale file are gone
    assert removed == 1
    response = await client.get(f"/api/v1/artifacts/multipart/{upload['upload_id']}", headers=headers)
    assert response.status == 404
    assert stored_files(tmp_path / "artifacts") == []


async def test_an_upload_cut_short_by_the_client_leaves_nothing(
    client: Any, headers: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a client that declares 1 MiB, sends half of it and hangs up
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    request = (
        f"POST /api/v1/artifacts HTTP/1.1\r\nHost: x\r\nAuthorization: {headers['Authorization']}\r\n"
        f"Content-Length: {LIMIT}\r\n\r\n"
    )
    writer.write(request.encode() + b"x" * (LIMIT // 2))
    await writer.drain()
    deadline = time.monotonic() + 10
    while not (tmp_path / "artifacts" / "staging").exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    writer.close()
    await writer.wait_closed()

    # When the server notices
    while (staged := stored_files(tmp_path / "artifacts")) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)

    # Then the partial body was dropped, no artifact exists, and no server error was logged
    assert staged == []
    assert Artifact.select().count() == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
