"""Where artifact bytes live: the `ArtifactStore` interface and `LocalStore`, a directory under the data dir.

The routes only speak to `ArtifactStore`, which moves opaque bytes under string keys
(`blobs/ab/abcdef…`, `uploads/upl_…/3`, `staging/…`); hashing, limits and ownership live above it.
An S3-compatible object store implements the same methods (`put_stream` as a multipart upload,
`move` as copy-then-delete, `read_range` as a ranged GET) and needs no change elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

#: Bytes read from disk per chunk when streaming out.
READ_CHUNK_BYTES = 1 << 20

_KEY_RE = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


class StoreError(Exception):
    """A key is malformed or an object is missing."""


@dataclass(frozen=True)
class StoredObject:
    """One object of a listing."""

    key: str
    size_bytes: int
    modified_at: float


class ArtifactStore(ABC):
    """Opaque bytes under string keys. Every method may be called concurrently for different keys."""

    @abstractmethod
    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Write `chunks` under `key` (replacing it) and return the size written.

        The object appears only once every chunk is written: if `chunks` raises, nothing is left
        under `key` (an earlier object there stays) and the exception propagates.
        """

    @abstractmethod
    def read_range(self, key: str, start: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """The bytes of `key` from `start`, `length` of them (all to the end when None), in chunks.

        Raises:
          StoreError: no object under `key`.
        """

    @abstractmethod
    async def size(self, key: str) -> int | None:
        """The size of the object under `key`, or None when there is none."""

    @abstractmethod
    async def move(self, src: str, dst: str) -> None:
        """Rename an object (replacing `dst`)."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove an object; a missing one is not an error."""

    @abstractmethod
    async def delete_prefix(self, prefix: str) -> None:
        """Remove every object whose key starts with `prefix/`."""

    @abstractmethod
    async def list_objects(self, prefix: str) -> list[StoredObject]:
        """Objects whose key starts with `prefix/`."""

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        return await self.size(key) is not None

    def open(self, key: str) -> AsyncIterator[bytes]:
        """All the bytes of `key`, in chunks."""
        return self.read_range(key, 0, None)


class LocalStore(ArtifactStore):
    """Objects as files under `root` (keys are relative paths); writes go to a temporary file, then rename."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.fsync = fsync
        root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The file of `key`.

        Raises:
          StoreError: the key is not a relative path of safe segments.
        """
        if not _KEY_RE.match(key) or any(part in (".", "..") for part in key.split("/")):
            raise StoreError(f"invalid store key {key!r}")
        return self.root / key

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        target = self.path(key)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, lambda: target.parent.mkdir(parents=True, exist_ok=True))
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        out = await loop.run_in_executor(None, tmp.open, "wb")
        written = 0
        try:
            async for chunk in chunks:
                await loop.run_in_executor(None, out.write, chunk)
                written += len(chunk)
            await loop.run_in_executor(None, self._close, out)
            await loop.run_in_executor(None, os.replace, tmp, target)
        except BaseException:
            out.close()
            tmp.unlink(missing_ok=True)
            raise
        return written

    def _close(self, out: BinaryIO) -> None:
        out.flush()
        if self.fsync:
            os.fsync(out.fileno())
        out.close()

    async def read_range(self, key: str, start: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        path = self.path(key)
        loop = asyncio.get_running_loop()
        try:
            source = await loop.run_in_executor(None, path.open, "rb")
        except FileNotFoundError:
            raise StoreError(f"no object {key!r}") from None
        try:
            await loop.run_in_executor(None, source.seek, start)
            left = length
            while left is None or left > 0:
                want = READ_CHUNK_BYTES if left is None else min(READ_CHUNK_BYTES, left)
                chunk = await loop.run_in_executor(None, source.read, want)
                if not chunk:
                    break
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            source.close()

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.get_running_loop().run_in_executor(None, self.path(key).stat)).st_size
        except FileNotFoundError:
            return None

    async def move(self, src: str, dst: str) -> None:
        source, target = self.path(src), self.path(dst)

        def move() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)

        await asyncio.get_running_loop().run_in_executor(None, move)

    async def delete(self, key: str) -> None:
        path = self.path(key)
        await asyncio.get_running_loop().run_in_executor(None, lambda: path.unlink(missing_ok=True))

    async def delete_prefix(self, prefix: str) -> None:
        directory = self.path(prefix)

        def delete() -> None:
            if not directory.is_dir():
                return
            for child in directory.rglob("*"):
                if child.is_file() or child.is_symlink():
                    child.unlink(missing_ok=True)
            for child in sorted(directory.rglob("*"), reverse=True):
                with contextlib.suppress(OSError):
                    child.rmdir()
            with contextlib.suppress(OSError):
                directory.rmdir()

        await asyncio.get_running_loop().run_in_executor(None, delete)

    async def list_objects(self, prefix: str) -> list[StoredObject]:
        directory = self.path(prefix)

        def scan() -> list[StoredObject]:
            if not directory.is_dir():
                return []
            found = []
            for child in directory.rglob("*"):
                with contextlib.suppress(FileNotFoundError):
                    stat = child.stat()
                    if child.is_file():
                        key = child.relative_to(self.root).as_posix()
                        found.append(StoredObject(key, stat.st_size, stat.st_mtime))
            return found

        return await asyncio.get_running_loop().run_in_executor(None, scan)
