"""Byte streams on their way to the store: request bodies in large chunks, counted and hashed as they pass."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from controller.core.errors import BadRequest

logger = logging.getLogger(__name__)

#: Bytes handed to the store per write: large enough that per-chunk overhead vanishes, small enough to be flat.
CHUNK_BYTES = 1 << 20


async def request_chunks(request: web.Request, chunk_bytes: int = CHUNK_BYTES) -> AsyncIterator[bytes]:
    """The request body in chunks of about `chunk_bytes`, read as it arrives (never held whole).

    Raises:
      BadRequest: the client went away or broke the body off (logged briefly, not as a server error).
    """
    buffer = bytearray()
    try:
        async for data in request.content.iter_any():
            buffer += data
            if len(buffer) >= chunk_bytes:
                yield bytes(buffer)
                buffer.clear()
    except (HttpProcessingError, ConnectionError) as exc:
        logger.info("upload %s %s cut short: %s", request.method, request.path, exc)
        raise BadRequest(f"the request body was cut short: {exc}") from None
    if buffer:
        yield bytes(buffer)


class Measured:
    """Passes chunks through while counting and hashing them; raises `too_large(limit)` once past `limit` bytes."""

    def __init__(self, source: AsyncIterable[bytes], limit: int, too_large: Callable[[int], Exception]) -> None:
        self.source = source
        self.limit = limit
        self.too_large = too_large
        self.size = 0
        self._hash = hashlib.sha256()

    @property
    def sha256(self) -> str:
        """Hex sha256 of the bytes seen so far."""
        return self._hash.hexdigest()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.source:
            self.size += len(chunk)
            if self.size > self.limit:
                raise self.too_large(self.limit)
            self._hash.update(chunk)
            yield chunk
