"""Artifacts as the routes see them: ingest a stream (hash, limit, verify, deduplicate), look up, delete.

Bytes are stored once per sha256 under `blobs/`; each account has at most one `Artifact` row per
sha256, so uploading the same bytes again answers the same id. A blob is deleted with the last row
that names it. Commits and deletes of one sha256 are serialised by an in-process lock (the
controller is the only writer).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import weakref
from collections.abc import AsyncIterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from controller.artifacts.models import Artifact
from controller.artifacts.signing import Signer
from controller.artifacts.store import ArtifactStore
from controller.artifacts.streams import Measured
from controller.core.db import Store
from controller.core.errors import PayloadTooLarge, ValidationFailed, field_error
from controller.core.ids import new_id
from controller.core.settings import Settings
from controller.core.web import not_found

logger = logging.getLogger(__name__)

#: Longest filename kept with an artifact.
MAX_FILENAME = 255


def blob_key(sha256: str) -> str:
    """Where the bytes of `sha256` are stored."""
    return f"blobs/{sha256[:2]}/{sha256}"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def artifact_json(artifact: Artifact) -> dict[str, Any]:
    """The public shape of an artifact."""
    return {
        "id": artifact.id,
        "sha256": artifact.sha256,
        "size": artifact.size_bytes,
        "filename": artifact.filename,
        "created_at": iso(artifact.created_at),
    }


def check_filename(value: Any, field: str = "filename") -> str:
    """A filename to keep with an artifact: 1-255 characters, no control characters.

    Raises:
      ValidationFailed: naming `field`.
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_FILENAME or any(ord(c) < 32 for c in value):
        raise ValidationFailed([field_error(field, f"must be 1-{MAX_FILENAME} characters without control characters")])
    return value


def own_artifact(account_id: str, artifact_id: str) -> Artifact:
    """The caller's artifact; another account's (or a missing) id is 404."""
    artifact = Artifact.get_or_none(Artifact.id == artifact_id, Artifact.account == account_id)
    if artifact is None:
        raise not_found("artifact", artifact_id)
    return artifact


def too_large(limit: int) -> Exception:
    """The 413 of an artifact over `limit` bytes."""
    return PayloadTooLarge(f"the artifact is over {limit} bytes", details={"limit_bytes": limit})


def _size_mismatch(expected: int) -> Exception:
    return ValidationFailed([field_error("size", f"the body is longer than the declared {expected} bytes")])


class Artifacts:
    """The artifact service of one controller."""

    def __init__(self, settings: Settings, db: Store, store: ArtifactStore, signer: Signer) -> None:
        self.settings = settings
        self.db = db
        self.store = store
        self.signer = signer
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock(self, sha256: str) -> asyncio.Lock:
        lock = self._locks.get(sha256)
        if lock is None:
            lock = self._locks[sha256] = asyncio.Lock()
        return lock

    async def ingest(
        self,
        account_id: str,
        filename: str,
        chunks: AsyncIterable[bytes],
        *,
        expected_size: int | None = None,
        expected_sha256: str | None = None,
    ) -> tuple[Artifact, bool]:
        """Store a stream as an artifact of `account_id`; returns it and whether it is new.

        Nothing is left behind when the stream fails, runs past the limit, or does not match
        `expected_size` / `expected_sha256`.

        Raises:
          PayloadTooLarge: over `max_artifact_bytes`.
          ValidationFailed: the size or sha256 differs from the expected one.
        """
        staging = f"staging/{secrets.token_hex(12)}"
        limit = self.settings.max_artifact_bytes
        if expected_size is not None:
            measured = Measured(chunks, min(expected_size, limit), lambda _: _size_mismatch(expected_size))
        else:
            measured = Measured(chunks, limit, too_large)
        try:
            await self.store.put_stream(staging, measured)
            verify(measured.size, measured.sha256, expected_size, expected_sha256)
        except BaseException:
            await self.store.delete(staging)
            raise
        return await self.commit(account_id, filename, staging, measured.sha256, measured.size)

    async def commit(
        self, account_id: str, filename: str, staging: str, sha256: str, size: int
    ) -> tuple[Artifact, bool]:
        """Turn verified bytes under `staging` into the account's artifact (or answer the one it already has)."""
        async with self._lock(sha256):
            if await self.store.exists(blob_key(sha256)):
                await self.store.delete(staging)
            else:
                await self.store.move(staging, blob_key(sha256))
            artifact, created = await self.db.write(_create_row, account_id, sha256, size, filename)
        logger.info("artifact=%s account=%s sha256=%s size=%d new=%s", artifact.id, account_id, sha256, size, created)
        return artifact, created

    async def remove(self, artifact: Artifact) -> None:
        """Delete an artifact row, and its bytes when no other account holds the same sha256."""
        async with self._lock(artifact.sha256):
            remaining = await self.db.write(_delete_row, artifact.id, artifact.sha256)
            if remaining == 0:
                await self.store.delete(blob_key(artifact.sha256))
        logger.info("artifact=%s deleted (blob kept by %d others)", artifact.id, remaining)


def verify(size: int, sha256: str, expected_size: int | None, expected_sha256: str | None) -> None:
    """Compare what was received with what was declared.

    Raises:
      ValidationFailed: naming `size` and/or `sha256`.
    """
    errors = []
    if expected_size is not None and size != expected_size:
        errors.append(field_error("size", f"received {size} bytes, declared {expected_size}"))
    if expected_sha256 is not None and sha256 != expected_sha256:
        errors.append(field_error("sha256", f"the received bytes hash to {sha256}, declared {expected_sha256}"))
    if errors:
        raise ValidationFailed(errors, message="the upload does not match its declaration; nothing was stored")


def _create_row(account_id: str, sha256: str, size: int, filename: str) -> tuple[Artifact, bool]:
    existing = Artifact.get_or_none(Artifact.account == account_id, Artifact.sha256 == sha256)
    if existing is not None:
        return existing, False
    artifact = Artifact.create(
        id=new_id("art"),
        account=account_id,
        sha256=sha256,
        size_bytes=size,
        filename=filename,
        created_at=time.time(),
    )
    return artifact, True


def _delete_row(artifact_id: str, sha256: str) -> int:
    Artifact.delete().where(Artifact.id == artifact_id).execute()
    return Artifact.select().where(Artifact.sha256 == sha256).count()


ARTIFACTS = web.AppKey("artifacts", Artifacts)
