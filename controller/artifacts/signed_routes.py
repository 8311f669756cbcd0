"""Signed upload URLs: `PUT` a direct upload or one part of a multipart upload.

These routes take no bearer token: the signature in the URL (minted by an authenticated
`POST /api/v1/artifacts/direct` or `/multipart`) is the authorisation, as with object-store
presigned URLs.
"""

from __future__ import annotations

import re
import time

from aiohttp import web

from controller.accounts.models import Account
from controller.artifacts import multipart
from controller.artifacts.models import ArtifactUpload
from controller.artifacts.routes import DIRECT_PURPOSE, check_declared_length, check_sha256
from controller.artifacts.service import ARTIFACTS, artifact_json
from controller.artifacts.signing import InvalidSignature
from controller.artifacts.streams import request_chunks
from controller.core.errors import Forbidden
from controller.core.web import json_response, not_found

routes = web.RouteTableDef()

_SIGNED_PATHS = (
    re.compile(r"^/api/v1/artifacts/direct/[^/]+$"),
    re.compile(r"^/api/v1/artifacts/multipart/[^/]+/parts/[^/]+$"),
)


def is_signed_upload(request: web.Request) -> bool:
    """Whether the request goes to a signed upload URL (authorised by its signature, not a token)."""
    return request.method == "PUT" and any(p.match(request.path) for p in _SIGNED_PATHS)


def _refused(exc: InvalidSignature) -> Forbidden:
    return Forbidden(
        f"this upload URL is not valid: {exc}",
        recommended_action="Ask for a new URL (POST /api/v1/artifacts/direct, or GET the multipart upload).",
    )


@routes.put("/api/v1/artifacts/direct/{token}")
async def put_direct(request: web.Request) -> web.Response:
    artifacts = request.app[ARTIFACTS]
    try:
        claims = artifacts.signer.verify(DIRECT_PURPOSE, request.match_info["token"])
    except InvalidSignature as exc:
        raise _refused(exc) from None
    if Account.get_or_none(Account.id == claims["a"]) is None:
        raise _refused(InvalidSignature("its account no longer exists"))
    check_declared_length(request, artifacts.settings.max_artifact_bytes, claims["n"])
    artifact, created = await artifacts.ingest(
        claims["a"], claims["f"], request_chunks(request), expected_size=claims["n"], expected_sha256=claims["h"]
    )
    return json_response(artifact_json(artifact), status=201 if created else 200)


@routes.put("/api/v1/artifacts/multipart/{upload_id}/parts/{number}")
async def put_part(request: web.Request) -> web.Response:
    artifacts = request.app[ARTIFACTS]
    upload_id, number = request.match_info["upload_id"], request.match_info["number"]
    try:
        claims = artifacts.signer.verify(multipart.PART_PURPOSE, request.query.get("sig", ""))
    except InvalidSignature as exc:
        raise _refused(exc) from None
    if claims.get("u") != upload_id or str(claims.get("p")) != number:
        raise _refused(InvalidSignature("it was signed for another part"))
    upload = ArtifactUpload.get_or_none(ArtifactUpload.id == upload_id, ArtifactUpload.expires_at >= time.time())
    if upload is None:
        raise not_found("upload", upload_id)
    part_number = int(claims["p"])
    check_declared_length(
        request, artifacts.settings.max_artifact_bytes, multipart.expected_part_size(upload, part_number)
    )
    digest = request.headers.get("X-Part-Sha256")
    sha256 = check_sha256(digest, "X-Part-Sha256") if digest else None
    part = await multipart.put_part(artifacts, upload, part_number, request_chunks(request), sha256)
    return json_response(
        {"upload_id": upload.id, "number": part.number, "size": part.size_bytes, "sha256": part.sha256}
    )
