"""Artifact routes: raw upload, direct-upload URLs, listing, download, metadata and deletion."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import unquote

import peewee as pw
from aiohttp import web

from controller.accounts.auth import account_of, require_writer
from controller.artifacts.download import artifact_headers, send_artifact
from controller.artifacts.models import Artifact
from controller.artifacts.service import ARTIFACTS, artifact_json, check_filename, iso, own_artifact, too_large
from controller.artifacts.streams import request_chunks
from controller.core.errors import ValidationFailed, field_error
from controller.core.web import SETTINGS, int_query, json_response, read_json

routes = web.RouteTableDef()

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
#: Signing purpose of direct-upload URLs.
DIRECT_PURPOSE = "direct"
#: Largest JSON body of the artifact routes.
MAX_JSON_BYTES = 64 * 1024


def base_url(request: web.Request) -> str:
    """The URL clients reach this controller at: the configured public URL, else the request's origin."""
    return request.app[SETTINGS].public_url.rstrip("/") or str(request.url.origin())


def check_sha256(value: Any, field: str = "sha256") -> str:
    """A lowercase hex sha256.

    Raises:
      ValidationFailed: naming `field`.
    """
    if not isinstance(value, str) or not _SHA256_RE.match(value.lower()):
        raise ValidationFailed([field_error(field, "must be 64 hexadecimal characters (a sha256)")])
    return value.lower()


def check_declared_length(request: web.Request, limit: int, expected: int | None = None) -> None:
    """Refuse a body whose Content-Length is over `limit` (413) or differs from `expected` (422), before reading it."""
    length = request.content_length
    if length is None:
        return
    if length > limit:
        raise too_large(limit)
    if expected is not None and length != expected:
        raise ValidationFailed(
            [field_error("size", f"Content-Length is {length}; the upload must be {expected} bytes")]
        )


def header_filename(request: web.Request) -> str:
    """`X-Artifact-Filename` (percent-encoded UTF-8 allowed), else `?filename=`, else `artifact`."""
    raw = request.headers.get("X-Artifact-Filename")
    value = unquote(raw) if raw is not None else request.query.get("filename", "artifact")
    return check_filename(value, "X-Artifact-Filename")


@routes.post("/api/v1/artifacts")
async def upload(request: web.Request) -> web.Response:
    account = account_of(request)
    require_writer(account)
    artifacts = request.app[ARTIFACTS]
    check_declared_length(request, artifacts.settings.max_artifact_bytes)
    filename = header_filename(request)
    sha256 = request.headers.get("X-Artifact-Sha256")
    expected = check_sha256(sha256, "X-Artifact-Sha256") if sha256 else None
    artifact, created = await artifacts.ingest(account.id, filename, request_chunks(request), expected_sha256=expected)
    return json_response(artifact_json(artifact), status=201 if created else 200)


@routes.post("/api/v1/artifacts/direct")
async def direct_url(request: web.Request) -> web.Response:
    account = account_of(request)
    require_writer(account)
    artifacts = request.app[ARTIFACTS]
    body = await read_json(request, MAX_JSON_BYTES)
    if not isinstance(body, dict):
        raise ValidationFailed([field_error("body", "must be a JSON object {sha256, size, filename}")])
    sha256 = check_sha256(body.get("sha256"))
    size = body.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValidationFailed([field_error("size", "must be a non-negative integer (bytes)")])
    if size > artifacts.settings.max_artifact_bytes:
        raise too_large(artifacts.settings.max_artifact_bytes)
    filename = check_filename(body.get("filename"))
    existing = Artifact.get_or_none(Artifact.account == account.id, Artifact.sha256 == sha256)
    expires_at = time.time() + artifacts.settings.upload_ttl_s
    claims = {"a": account.id, "h": sha256, "n": size, "f": filename}
    token = artifacts.signer.sign(DIRECT_PURPOSE, claims, expires_at)
    return json_response(
        {
            "method": "PUT",
            "upload_url": f"{base_url(request)}/api/v1/artifacts/direct/{token}",
            "expires_at": iso(expires_at),
            "sha256": sha256,
            "size": size,
            "filename": filename,
            "artifact": artifact_json(existing) if existing is not None else None,
        },
        status=201,
    )


@routes.get("/api/v1/artifacts")
async def list_artifacts(request: web.Request) -> web.Response:
    account = account_of(request)
    limit = int_query(request, "limit", 50, 1, 500)
    query = Artifact.select().where(Artifact.account == account.id)
    if prefix := request.query.get("prefix"):
        query = query.where(pw.fn.SUBSTR(Artifact.filename, 1, len(prefix)) == prefix)
    if before := request.query.get("before"):
        anchor = Artifact.get_or_none(Artifact.id == before, Artifact.account == account.id)
        if anchor is None:
            raise ValidationFailed([field_error("before", "must be an artifact id from a previous page's next_before")])
        query = query.where(
            (Artifact.created_at < anchor.created_at)
            | ((Artifact.created_at == anchor.created_at) & (Artifact.id < anchor.id))
        )
    rows = list(query.order_by(Artifact.created_at.desc(), Artifact.id.desc()).limit(limit + 1))
    page = rows[:limit]
    return json_response(
        {"artifacts": [artifact_json(a) for a in page], "next_before": page[-1].id if len(rows) > limit else None}
    )


@routes.get("/api/v1/artifacts/{artifact_id}")
async def download(request: web.Request) -> web.StreamResponse:
    artifact = own_artifact(account_of(request).id, request.match_info["artifact_id"])
    return await send_artifact(request, request.app[ARTIFACTS], artifact)


@routes.get("/api/v1/artifacts/{artifact_id}/meta")
async def metadata(request: web.Request) -> web.Response:
    artifact = own_artifact(account_of(request).id, request.match_info["artifact_id"])
    headers = {k: v for k, v in artifact_headers(artifact).items() if k != "Content-Disposition"}
    return json_response(artifact_json(artifact), headers=headers)


@routes.delete("/api/v1/artifacts/{artifact_id}")
async def delete(request: web.Request) -> web.Response:
    account = account_of(request)
    require_writer(account)
    artifact = own_artifact(account.id, request.match_info["artifact_id"])
    await request.app[ARTIFACTS].remove(artifact)
    return json_response({"deleted": artifact.id})
