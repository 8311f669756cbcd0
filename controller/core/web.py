"""HTTP plumbing shared by the route modules: typed app state, JSON in and out, the error envelope."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import dramatiq
from aiohttp import web

from controller.core import json_depth
from controller.core.body import read_body
from controller.core.db import Store
from controller.core.errors import (
    BadRequest,
    ComputalotError,
    NotFound,
    NotReady,
    ValidationFailed,
    field_error,
)
from controller.core.settings import Settings

logger = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
BROKER = web.AppKey("broker", dramatiq.Broker)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

T = TypeVar("T")


def running(app: web.Application, key: web.AppKey[T], what: str) -> T:
    """`app[key]`; NotReady when the app was built without its background loops (`create_app(background=False)`)."""
    if key not in app:
        raise NotReady(f"{what} is not running in this controller")
    return app[key]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), default=str)


async def read_json(request: web.Request, max_bytes: int, recommended_action: str = "") -> Any:
    """The whole request body (Content-Length or chunked) decoded as JSON, its nesting checked before decoding.

    Raises:
      PayloadTooLarge: the body is over `max_bytes` (with `recommended_action`, when given).
      BadRequest: the body is empty or not JSON.
      TooDeep: arrays and objects nest deeper than `MAX_JSON_DEPTH`.
    """
    body = await read_body(request, max_bytes, recommended_action)
    if not body.strip():
        raise BadRequest("the request body is empty; send a JSON object")
    return json_depth.loads(body)


async def read_fields(request: web.Request, allowed: set[str], max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object with no field outside `allowed` (what `read_json` reads, then its shape).

    Raises:
      ValidationFailed: the body is not an object, or names unknown fields (each one, with the allowed ones).
    """
    body = await read_json(request, max_bytes)
    if not isinstance(body, dict):
        raise ValidationFailed([field_error("body", "must be a JSON object")])
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValidationFailed(
            [field_error(k, f"unknown field; allowed: {', '.join(sorted(allowed))}") for k in unknown]
        )
    return body


_INTEGER = re.compile(r"-?[0-9]{1,19}")


def int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within bounds."""

    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    # ASCII digits only: int() also reads other scripts' digits ("٣" is 3)
    value = int(raw) if _INTEGER.fullmatch(raw) else low - 1
    if not low <= value <= high:
        raise ValidationFailed([field_error(name, f"must be an integer from {low} to {high}")])
    return value


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    503: "not_ready",
}


def error_response(exc: ComputalotError) -> web.Response:
    # an error may carry headers of its own (a 402's x402 PAYMENT-REQUIRED)
    return json_response(exc.to_json(), status=exc.status, headers=getattr(exc, "headers", None) or None)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as the JSON envelope; unexpected ones are logged with their traceback."""
    try:
        return await handler(request)
    except ComputalotError as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        if exc.status == 404:
            message = f"no route {request.method} {request.path}; see /api/v1/docs for the routes"
        error = ComputalotError(message)
        error.code, error.status = code, exc.status
        return json_response(error.to_json(), status=exc.status, headers=_allow(exc))
    except Exception:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(ComputalotError("internal error; the operator's logs have the details"))


def _allow(exc: web.HTTPException) -> dict[str, str] | None:
    allow = exc.headers.get("Allow")
    return {"Allow": allow} if allow else None


def not_found(kind: str, ident: str) -> NotFound:
    """The 404 for a missing object, or one that belongs to another account."""
    return NotFound(f"{kind} {ident!r} not found", details={kind: ident})


def iso(ts: float | None) -> str | None:
    """ISO 8601 UTC of a UNIX time."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def duration(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else round(end - start, 3)
