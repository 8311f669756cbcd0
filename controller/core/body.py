"""Reading a whole request body, whatever its framing (Content-Length or chunked), up to the route's limit."""

from __future__ import annotations

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from controller.core.errors import BadRequest, PayloadTooLarge

#: What to do instead when a body is over its limit, unless the route says better.
DEFAULT_TOO_LARGE_ACTION = "Send a smaller body; put large data in an artifact (POST /api/v1/artifacts)."


def too_large(max_bytes: int, recommended_action: str = "") -> PayloadTooLarge:
    """The 413 of a body over `max_bytes`."""
    return PayloadTooLarge(
        f"request body is over {max_bytes} bytes",
        details={"limit_bytes": max_bytes},
        recommended_action=recommended_action or DEFAULT_TOO_LARGE_ACTION,
    )


async def read_body(request: web.Request, max_bytes: int, recommended_action: str = "") -> bytes:
    """Every byte of the request body: read until it ends, never partially.

    Raises:
      PayloadTooLarge: the declared or received length is over `max_bytes` (refused as soon as it is known).
      BadRequest: the client broke the body off.
    """
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large(max_bytes, recommended_action)
    received = bytearray()
    try:
        async for chunk in request.content.iter_any():
            received += chunk
            if len(received) > max_bytes:
                raise too_large(max_bytes, recommended_action)
    except (HttpProcessingError, ConnectionError) as exc:
        raise BadRequest(f"the request body was cut short: {exc}") from None
    return bytes(received)
