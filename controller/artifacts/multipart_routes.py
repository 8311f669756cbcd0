"""Multipart upload routes: start, inspect (resume), complete, abort. Parts go to signed URLs."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from controller.accounts.auth import account_of, require_writer
from controller.artifacts import multipart
from controller.artifacts.models import ArtifactUpload
from controller.artifacts.routes import MAX_JSON_BYTES, base_url, check_sha256
from controller.artifacts.service import ARTIFACTS, artifact_json, check_filename
from controller.core.web import json_response, not_found, read_fields

routes = web.RouteTableDef()


def _own_upload(request: web.Request, upload_id: Any) -> ArtifactUpload:
    upload = multipart.own_upload(account_of(request).id, upload_id)
    if upload is None:
        raise not_found("upload", str(upload_id))
    return upload


@routes.post("/api/v1/artifacts/multipart")
async def start(request: web.Request) -> web.Response:
    account = account_of(request)
    require_writer(account)
    body = await read_fields(request, {"filename", "size", "part_size"}, MAX_JSON_BYTES)
    filename = check_filename(body.get("filename"))
    artifacts = request.app[ARTIFACTS]
    upload = await multipart.create(artifacts, account.id, filename, body.get("size"), body.get("part_size"))
    return json_response(multipart.upload_json(artifacts, upload, base_url(request)), status=201)


@routes.get("/api/v1/artifacts/multipart/{upload_id}")
async def inspect(request: web.Request) -> web.Response:
    upload = _own_upload(request, request.match_info["upload_id"])
    return json_response(multipart.upload_json(request.app[ARTIFACTS], upload, base_url(request)))


@routes.post("/api/v1/artifacts/multipart/complete")
async def complete(request: web.Request) -> web.Response:
    require_writer(account_of(request))
    body = await read_fields(request, {"upload_id", "sha256"}, MAX_JSON_BYTES)
    upload = _own_upload(request, body.get("upload_id"))
    sha256 = check_sha256(body["sha256"]) if body.get("sha256") is not None else None
    artifact, created = await multipart.complete(request.app[ARTIFACTS], upload, sha256)
    return json_response(artifact_json(artifact), status=201 if created else 200)


@routes.delete("/api/v1/artifacts/multipart/{upload_id}")
async def abort(request: web.Request) -> web.Response:
    require_writer(account_of(request))
    upload = _own_upload(request, request.match_info["upload_id"])
    await multipart.abort(request.app[ARTIFACTS], upload)
    return json_response({"aborted": upload.id})
