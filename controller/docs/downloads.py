"""Machine-readable downloads: the SDK wheel and the OpenAPI document of the endpoint list."""

from __future__ import annotations

import asyncio
import functools
import importlib.util
from importlib import metadata
from pathlib import Path

from aiohttp import web

from controller.core.web import json_response, not_found
from controller.docs.openapi import openapi
from controller.docs.sdk_wheel import build_wheel, wheel_name

routes = web.RouteTableDef()


def sdk_package() -> tuple[Path, str] | None:
    """Where the installed `computalot` SDK lives and its version (None when it is not installed here)."""
    spec = importlib.util.find_spec("computalot")
    if spec is None or spec.origin is None:
        return None
    try:
        version = metadata.version("computalot")
    except metadata.PackageNotFoundError:
        return None
    return Path(spec.origin).parent, version


@functools.lru_cache(maxsize=2)
def _wheel(package_dir: Path, version: str) -> bytes:
    return build_wheel(package_dir, version)


@routes.get("/docs/downloads/{filename}")
async def download_sdk(request: web.Request) -> web.Response:
    """`computalot-<version>-py3-none-any.whl`: `pip install <url>` installs the SDK and its CLI."""
    found = sdk_package()
    filename = request.match_info["filename"]
    if found is None or filename != wheel_name(found[1]):
        error = not_found("download", filename)
        if found is not None:
            error.recommended_action = f"Download /docs/downloads/{wheel_name(found[1])}"
        raise error
    data = await asyncio.get_running_loop().run_in_executor(None, _wheel, *found)
    return web.Response(
        body=data,
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@routes.get("/api/v1/docs/openapi.json")
async def get_openapi(request: web.Request) -> web.Response:
    """The OpenAPI document (controller/docs/openapi.py)."""
    return json_response(openapi())
