"""The local artifact store: the `ArtifactStore` contract on a directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from controller.artifacts.store import LocalStore, StoreError


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def failing() -> AsyncIterator[bytes]:
    yield b"partial"
    raise ConnectionResetError("client went away")


async def read_all(store: LocalStore, key: str, start: int = 0, length: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.read_range(key, start, length)])


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "artifacts", fsync=False)


async def test_a_streamed_object_reads_back_whole_and_by_range(store: LocalStore) -> None:
    # Given an object written from several chunks
    size = await store.put_stream("blobs/ab/abc", chunks(b"hello ", b"wide ", b"world"))

    # Then its size, its bytes and any range of them read back
    assert size == 16
    assert await store.size("blobs/ab/abc") == 16
    assert await store.exists("blobs/ab/abc")
    assert await read_all(store, "blobs/ab/abc") == b"hello wide world"
    assert await read_all(store, "blobs/ab/abc", 6, 4) == b"wide"
    assert await read_all(store, "blobs/ab/abc", 11) == b"world"


async def test_a_failed_stream_leaves_nothing_and_keeps_the_previous_object(store: LocalStore) -> None:
    # Given an object already stored
    await store.put_stream("uploads/u/1", chunks(b"good"))

    # When a replacement stream fails half-way
    with pytest.raises(ConnectionResetError):
        await store.put_stream("uploads/u/1", failing())

    # Then the old object is intact and no temporary file is left
    assert await read_all(store, "uploads/u/1") == b"good"
    assert [p.name for p in (store.root / "uploads" / "u").iterdir()] == ["1"]


async def test_move_delete_and_listing(store: LocalStore) -> None:
    # Given two staged objects
    await store.put_stream("staging/a", chunks(b"aaa"))
    await store.put_stream("staging/b", chunks(b"bb"))

    # When one is moved and the other deleted
    await store.move("staging/a", "blobs/aa/a")
    await store.delete("staging/b")
    await store.delete("staging/never-existed")

    # Then only the moved object remains, under its new key
    assert await store.size("staging/a") is None
    assert [(o.key, o.size_bytes) for o in await store.list_objects("blobs")] == [("blobs/aa/a", 3)]
    assert await store.list_objects("staging") == []


async def test_deleting_a_prefix_removes_every_object_under_it(store: LocalStore) -> None:
    # Given the parts of an upload
    for n in (1, 2, 3):
        await store.put_stream(f"uploads/upl_x/{n}", chunks(b"p"))

    # When the prefix is deleted
    await store.delete_prefix("uploads/upl_x")

    # Then nothing of it is left, not even its directory
    assert await store.list_objects("uploads") == []
    assert not (store.root / "uploads" / "upl_x").exists()


@pytest.mark.parametrize("key", ["../escape", "/abs", "a//b", "a/../b", "a/./b", "", "a b"])
def test_keys_that_could_leave_the_root_are_refused(store: LocalStore, key: str) -> None:
    with pytest.raises(StoreError):
        store.path(key)


async def test_reading_a_missing_object_raises(store: LocalStore) -> None:
    with pytest.raises(StoreError):
        await read_all(store, "blobs/no/such")
