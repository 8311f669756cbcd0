"""Resumable uploads in parts: create, receive parts (any order, re-sendable), list, complete, abort, expire.

Parts are stored under `uploads/<upload_id>/<number>` and recorded as `ArtifactPart` rows; completing
streams them in order into one staged object while hashing it, verifies size and sha256, and commits
it as an artifact. Part URLs are signed (the signature is their authorisation) and expire with the upload.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from controller.artifacts.models import Artifact, ArtifactPart, ArtifactUpload
from controller.artifacts.service import Artifacts, iso, too_large, verify
from controller.artifacts.store import ArtifactStore
from controller.artifacts.streams import Measured
from controller.core.errors import Conflict, ValidationFailed, field_error
from controller.core.ids import new_id

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
DEFAULT_PART_SIZE = 16 * MIB
MIN_PART_SIZE = 1 * MIB
MAX_PART_SIZE = 512 * MIB
MAX_PARTS = 10_000
#: Signing purpose of part URLs.
PART_PURPOSE = "part"


def part_key(upload_id: str, number: int) -> str:
    return f"uploads/{upload_id}/{number}"


def expected_part_size(upload: ArtifactUpload, number: int) -> int:
    """Bytes part `number` (1-based) must hold: `part_size`, except the last one."""
    if number < upload.part_count:
        return upload.part_size
    return upload.size_bytes - upload.part_size * (upload.part_count - 1)


def plan_parts(size: Any, part_size: Any, limit: int) -> tuple[int, int]:
    """(part_size, part_count) for an upload of `size` bytes.

    Raises:
      PayloadTooLarge: `size` is over `limit`.
      ValidationFailed: `size` or `part_size` is out of bounds.
    """
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValidationFailed([field_error("size", "must be a positive integer (bytes)")])
    if size > limit:
        raise too_large(limit)
    part_size = DEFAULT_PART_SIZE if part_size is None else part_size
    if not isinstance(part_size, int) or isinstance(part_size, bool) or not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
        raise ValidationFailed(
            [field_error("part_size", f"must be an integer from {MIN_PART_SIZE} to {MAX_PART_SIZE}")]
        )
    count = -(-size // part_size)
    if count > MAX_PARTS:
        raise ValidationFailed(
            [field_error("part_size", f"makes {count} parts; at most {MAX_PARTS}: use larger parts")]
        )
    return part_size, count


async def create(artifacts: Artifacts, account_id: str, filename: str, size: Any, part_size: Any) -> ArtifactUpload:
    """Open a multipart upload."""
    part_size, count = plan_parts(size, part_size, artifacts.settings.max_artifact_bytes)
    now = time.time()
    return await artifacts.db.write(
        lambda: ArtifactUpload.create(
            id=new_id("upl"),
            account=account_id,
            filename=filename,
            size_bytes=size,
            part_size=part_size,
            part_count=count,
            created_at=now,
            expires_at=now + artifacts.settings.upload_ttl_s,
        )
    )


def own_upload(account_id: str, upload_id: Any) -> ArtifactUpload | None:
    """The caller's open upload, or None (another account's upload does not exist for the caller)."""
    if not isinstance(upload_id, str):
        return None
    return ArtifactUpload.get_or_none(
        ArtifactUpload.id == upload_id, ArtifactUpload.account == account_id, ArtifactUpload.expires_at >= time.time()
    )


def received_parts(upload_id: str) -> list[ArtifactPart]:
    return list(ArtifactPart.select().where(ArtifactPart.upload == upload_id).order_by(ArtifactPart.number))


def upload_json(artifacts: Artifacts, upload: ArtifactUpload, base_url: str) -> dict[str, Any]:
    """An upload with its signed part URLs and what was received so far (what a resuming client needs)."""
    received = received_parts(upload.id)
    have = {p.number for p in received}
    parts = []
    for number in range(1, upload.part_count + 1):
        token = artifacts.signer.sign(PART_PURPOSE, {"u": upload.id, "p": number}, upload.expires_at)
        url = f"{base_url}/api/v1/artifacts/multipart/{upload.id}/parts/{number}?sig={token}"
        parts.append({"number": number, "size": expected_part_size(upload, number), "url": url})
    return {
        "upload_id": upload.id,
        "filename": upload.filename,
        "size": upload.size_bytes,
        "part_size": upload.part_size,
        "part_count": upload.part_count,
        "status": upload.status,
        "created_at": iso(upload.created_at),
        "expires_at": iso(upload.expires_at),
        "parts": parts,
        "received": [{"number": p.number, "size": p.size_bytes, "sha256": p.sha256} for p in received],
        "missing": [n for n in range(1, upload.part_count + 1) if n not in have],
    }


async def put_part(
    artifacts: Artifacts, upload: ArtifactUpload, number: int, chunks: AsyncIterable[bytes], sha256: str | None
) -> ArtifactPart:
    """Receive one part (replacing an earlier copy only once this one is verified).

    Raises:
      Conflict: the upload is being completed.
      ValidationFailed: the part's size or sha256 is not the expected one.
    """
    if upload.status != "open":
        raise Conflict(f"upload {upload.id} is being completed; no more parts are accepted")
    expected = expected_part_size(upload, number)
    staging = f"staging/{upload.id}-{number}-{secrets.token_hex(6)}"
    too_long = ValidationFailed([field_error("body", f"part {number} must be {expected} bytes; more were sent")])
    measured = Measured(chunks, expected, lambda _: too_long)
    store = artifacts.store
    try:
        await store.put_stream(staging, measured)
        verify(measured.size, measured.sha256, expected, sha256)
        await store.move(staging, part_key(upload.id, number))
    except BaseException:
        await store.delete(staging)
        raise
    part = await artifacts.db.write(_record_part, upload.id, number, measured.size, measured.sha256)
    logger.debug("upload=%s part=%d received (%d bytes)", upload.id, number, measured.size)
    return part


def _record_part(upload_id: str, number: int, size: int, sha256: str) -> ArtifactPart:
    ArtifactPart.delete().where(ArtifactPart.upload == upload_id, ArtifactPart.number == number).execute()
    return ArtifactPart.create(upload=upload_id, number=number, size_bytes=size, sha256=sha256, received_at=time.time())


async def complete(artifacts: Artifacts, upload: ArtifactUpload, sha256: str | None) -> tuple[Artifact, bool]:
    """Assemble the parts in order, verify and commit them as an artifact; the upload is gone afterwards.

    A size or sha256 mismatch aborts the upload (parts included): nothing is left behind.

    Raises:
      Conflict: parts are missing, or another completion is running.
      ValidationFailed: the assembled bytes differ from the declaration.
    """
    missing = await artifacts.db.write(_start_completing, upload.id)
    if missing:
        raise Conflict(
            f"upload {upload.id} is missing {len(missing)} parts",
            details={"missing": missing[:100]},
            recommended_action="PUT the missing parts (GET the upload for their URLs), then complete again.",
        )
    store = artifacts.store
    staging = f"staging/{upload.id}-{secrets.token_hex(6)}"
    keys = [part_key(upload.id, n) for n in range(1, upload.part_count + 1)]
    overrun = ValidationFailed(
        [field_error("size", f"the parts hold more than the declared {upload.size_bytes} bytes")]
    )
    measured = Measured(_concat(store, keys), upload.size_bytes, lambda _: overrun)
    try:
        await store.put_stream(staging, measured)
    except BaseException:
        await store.delete(staging)
        await artifacts.db.write(_reopen, upload.id)
        raise
    try:
        verify(measured.size, measured.sha256, upload.size_bytes, sha256)
    except ValidationFailed:
        await store.delete(staging)
        await abort(artifacts, upload)
        raise
    artifact, created = await artifacts.commit(
        upload.account_id, upload.filename, staging, measured.sha256, measured.size
    )
    await abort(artifacts, upload)
    return artifact, created


def _start_completing(upload_id: str) -> list[int]:
    """Mark the upload as completing; returns the missing part numbers instead when some are."""
    upload = ArtifactUpload.get_by_id(upload_id)
    if upload.status != "open":
        raise Conflict(f"upload {upload_id} is already being completed")
    have = {p.number for p in ArtifactPart.select(ArtifactPart.number).where(ArtifactPart.upload == upload_id)}
    missing = [n for n in range(1, upload.part_count + 1) if n not in have]
    if not missing:
        ArtifactUpload.update(status="completing").where(ArtifactUpload.id == upload_id).execute()
    return missing


def _reopen(upload_id: str) -> None:
    ArtifactUpload.update(status="open").where(ArtifactUpload.id == upload_id).execute()


async def _concat(store: ArtifactStore, keys: list[str]) -> AsyncIterator[bytes]:
    for key in keys:
        async for chunk in store.open(key):
            yield chunk


async def abort(artifacts: Artifacts, upload: ArtifactUpload) -> None:
    """Remove an upload and its parts."""
    await artifacts.db.write(lambda: ArtifactUpload.delete().where(ArtifactUpload.id == upload.id).execute())
    await artifacts.store.delete_prefix(f"uploads/{upload.id}")


async def expire(artifacts: Artifacts, now: float | None = None) -> int:
    """Remove uploads past their expiry, and staged or part files nobody owns any more; returns uploads removed."""
    now = time.time() if now is None else now
    expired = list(ArtifactUpload.select().where(ArtifactUpload.expires_at < now))
    for upload in expired:
        await abort(artifacts, upload)
    cutoff = now - artifacts.settings.upload_ttl_s
    store = artifacts.store
    for stored in await store.list_objects("staging"):
        if stored.modified_at < cutoff:
            await store.delete(stored.key)
    live = {u.id for u in ArtifactUpload.select(ArtifactUpload.id)}
    for stored in await store.list_objects("uploads"):
        upload_id = stored.key.split("/")[1]
        if upload_id not in live and stored.modified_at < cutoff:
            await store.delete(stored.key)
    if expired:
        logger.info("removed %d expired multipart uploads", len(expired))
    return len(expired)
