"""Answering a download: the artifact streamed from the store, with `ETag` (its sha256), `Range` and `HEAD`."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from controller.artifacts.models import Artifact
from controller.artifacts.ranges import Unsatisfiable, parse_range
from controller.artifacts.service import Artifacts, blob_key
from controller.core.errors import ComputalotError
from controller.core.web import json_response


def artifact_headers(artifact: Artifact) -> dict[str, str]:
    """Headers that describe an artifact, on downloads and metadata answers alike."""
    return {
        "ETag": f'"{artifact.sha256}"',
        "Accept-Ranges": "bytes",
        "X-Artifact-Id": artifact.id,
        "X-Artifact-Sha256": artifact.sha256,
        "X-Artifact-Size": str(artifact.size_bytes),
        "X-Artifact-Filename": quote(artifact.filename, safe=""),
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(artifact.filename, safe='')}",
    }


def _etag_matches(header: str | None, sha256: str) -> bool:
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}
    return "*" in tags or sha256 in tags


async def send_artifact(request: web.Request, artifacts: Artifacts, artifact: Artifact) -> web.StreamResponse:
    """Stream `artifact` (or the requested range of it); HEAD gets the headers only."""
    headers = artifact_headers(artifact)
    if _etag_matches(request.headers.get("If-None-Match"), artifact.sha256):
        return web.Response(status=304, headers=headers)
    size = artifact.size_bytes
    if_range = request.headers.get("If-Range")
    wanted = None if if_range and not _etag_matches(if_range, artifact.sha256) else request.headers.get("Range")
    try:
        span = parse_range(wanted, size)
    except Unsatisfiable:
        error = ComputalotError(f"the range {wanted!r} is outside the artifact's {size} bytes")
        error.code, error.status = "range_not_satisfiable", 416
        return json_response(error.to_json(), status=416, headers={"Content-Range": f"bytes */{size}"})
    start, end = span if span is not None else (0, size - 1)
    response = web.StreamResponse(status=206 if span is not None else 200, headers=headers)
    response.content_type = "application/octet-stream"
    response.content_length = end - start + 1
    if span is not None:
        response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    await response.prepare(request)
    if request.method != "HEAD" and size:
        async for chunk in artifacts.store.read_range(blob_key(artifact.sha256), start, end - start + 1):
            await response.write(chunk)
    await response.write_eof()
    return response
