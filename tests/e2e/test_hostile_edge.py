"""Hostile input at the edge of the real platform: deep JSON once killed the whole process (a C stack overflow)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator

from tests.conftest_platform import Platform

DEEP = b"[" * 65536


def chunks(data: bytes, size: int = 4096) -> Iterator[bytes]:
    """`data` in pieces, so httpx sends it with Transfer-Encoding: chunked."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_64_kib_of_brackets_to_the_public_feedback_route_is_a_422_and_the_platform_lives(embedded: Platform) -> None:
    # Given the platform running as its own process, and no token at all
    with embedded.http(None) as http:
        # When 64 KiB of '[' is posted to the unauthenticated feedback route, sized and chunked
        sized = http.post("/api/v1/feedback", content=DEEP, headers={"Content-Type": "application/json"})
        chunked = http.post("/api/v1/feedback", content=chunks(DEEP), headers={"Content-Type": "application/json"})
        # Then each is refused as too deep
        assert sized.status_code == 422, sized.text
        assert sized.json()["error"]["code"] == "too_deep"
        assert chunked.status_code == 422, chunked.text
        # And the process is alive and healthy
        assert http.get("/health").status_code == 200
    assert embedded.processes[0].alive()


def test_a_push_whose_manifest_is_64_kib_deep_is_a_422_and_the_platform_lives(embedded: Platform) -> None:
    # Given a project, and a tarball whose manifest is 64 KiB of '['
    token = embedded.new_token()
    with embedded.http(token) as http:
        assert http.post("/api/v1/projects", json={"name": "deep"}).status_code == 201
        data = tarball({"computalot.project.json": DEEP, "run.py": b""})
        # When it is pushed
        pushed = http.post("/api/v1/projects/deep/push", content=data)
        # Then it is refused as too deep, and the platform still answers
        assert pushed.status_code == 422, pushed.text
        assert pushed.json()["error"]["code"] == "too_deep"
        assert http.get("/health").status_code == 200
    assert embedded.processes[0].alive()
