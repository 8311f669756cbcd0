"""Artifact transfers for `ComputalotClient`: uploads (raw, direct, resumable multipart) and resumable downloads.

Signed upload URLs are called with a separate HTTP client that sends no token: the signature
authorises them, and the token must not travel to wherever a URL points (an object store, later).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

import httpx
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from .errors import ComputalotError, ConnectionFailed, NotFound, ValidationError, from_response

if TYPE_CHECKING:
    from .client import ComputalotClient

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
#: Files smaller than this go up in one raw request; larger ones in resumable parts.
RAW_LIMIT = 64 * MIB
DEFAULT_PART_SIZE = 16 * MIB
#: Bytes read from disk per chunk when streaming.
CHUNK_BYTES = MIB
#: Seconds to wait for answers that come after heavy server-side work (assembling gigabytes).
SLOW_ANSWER_S = 900.0
METHODS = ("auto", "raw", "direct", "multipart")


class _Bar:
    """A rich transfer bar, or nothing when disabled."""

    def __init__(self, enabled: bool, description: str, total: int) -> None:
        self._progress = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                transient=False,
            )
            if enabled
            else None
        )
        self._task = self._progress.add_task(description, total=total) if self._progress else None

    def __enter__(self) -> _Bar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def advance(self, n: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, n)

    def describe(self, description: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=description)


def _chunks(source: BinaryIO, bar: _Bar, limit: int | None = None) -> Iterator[bytes]:
    """The file's bytes from its position (at most `limit`), advancing the bar as they are sent."""
    left = limit
    while left is None or left > 0:
        chunk = source.read(CHUNK_BYTES if left is None else min(CHUNK_BYTES, left))
        if not chunk:
            return
        if left is not None:
            left -= len(chunk)
        bar.advance(len(chunk))
        yield chunk


def sha256_file(path: Path, bar: _Bar | None = None) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
            if bar is not None:
                bar.advance(len(chunk))
    return digest.hexdigest()


def _signed(method: str, http: httpx.Client, url: str, **kwargs: Any) -> dict[str, Any]:
    """A request to a signed URL (no token); the mapped error for a non-2xx answer."""
    try:
        response = http.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise ConnectionFailed(f"upload to {url.split('?')[0]} failed: {exc}") from exc
    if not response.is_success:
        raise from_response(response.status_code, response.content)
    return response.json()


# -- resumable state ------------------------------------------------------------------------------------------


def state_dir() -> Path:
    """Where multipart uploads remember their progress: `$XDG_CACHE_HOME/computalot/uploads`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "computalot" / "uploads"


def state_path(controller_url: str, source: Path) -> Path:
    """The state file of uploading `source` (as it is now: same path, size and mtime) to a controller."""
    stat = source.stat()
    key = f"{controller_url}\0{source.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return state_dir() / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _load_state(path: Path) -> dict[str, Any] | None:
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and isinstance(state.get("upload_id"), str) else None


def _save_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


# -- uploads --------------------------------------------------------------------------------------------------


def upload(
    client: ComputalotClient,
    path: str | os.PathLike[str],
    *,
    filename: str | None = None,
    progress: bool = True,
    method: str = "auto",
    part_size: int | None = None,
    on_part: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Upload a file; see `ComputalotClient.upload_artifact`."""
    source = Path(path)
    size = source.stat().st_size
    name = filename or source.name
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if method == "auto":
        method = "raw" if size < RAW_LIMIT else "multipart"
    with _Bar(progress, f"{method} {name}", size) as bar:
        if method == "raw":
            return _raw(client, source, name, size, bar)
        if method == "direct":
            return _direct(client, source, name, size, bar)
        return _multipart(client, source, name, size, part_size, bar, on_part)


def _raw(client: ComputalotClient, source: Path, name: str, size: int, bar: _Bar) -> dict[str, Any]:
    with source.open("rb") as body:
        return client._json(
            "POST",
            "/api/v1/artifacts",
            content=_chunks(body, bar),
            headers={
                "X-Artifact-Filename": quote(name, safe=""),
                "Content-Length": str(size),
                "Content-Type": "application/octet-stream",
            },
            timeout=SLOW_ANSWER_S,
        )


def _direct(client: ComputalotClient, source: Path, name: str, size: int, bar: _Bar) -> dict[str, Any]:
    bar.describe(f"hashing {name}")
    digest = sha256_file(source, bar)
    answer = client._json("POST", "/api/v1/artifacts/direct", json={"sha256": digest, "size": size, "filename": name})
    if answer.get("artifact"):
        return answer["artifact"]
    bar.describe(f"direct {name}")
    with source.open("rb") as body, httpx.Client(timeout=SLOW_ANSWER_S) as http:
        return _signed(
            answer.get("method", "PUT"),
            http,
            answer["upload_url"],
            content=_chunks(body, bar),
            headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
        )


def _multipart(
    client: ComputalotClient,
    source: Path,
    name: str,
    size: int,
    part_size: int | None,
    bar: _Bar,
    on_part: Callable[[int], None] | None,
) -> dict[str, Any]:
    state_file = state_path(client.controller_url, source)
    upload_state, answer = _resume_or_start(client, state_file, name, size, part_size or DEFAULT_PART_SIZE)
    received = {p["number"]: p["sha256"] for p in answer["received"]}
    whole = hashlib.sha256()
    with source.open("rb") as body, httpx.Client(timeout=SLOW_ANSWER_S) as http:
        for part in answer["parts"]:
            number = part["number"]
            data = body.read(part["size"])
            whole.update(data)
            digest = hashlib.sha256(data).hexdigest()
            if received.get(number) != digest:
                _signed("PUT", http, part["url"], content=data, headers={"X-Part-Sha256": digest})
                logger.info("upload=%s part=%d sent (%d bytes)", answer["upload_id"], number, len(data))
                upload_state["parts"][str(number)] = digest
                _save_state(state_file, upload_state)
            bar.advance(len(data))
            if on_part is not None:
                on_part(number)
    try:
        artifact = client._json(
            "POST",
            "/api/v1/artifacts/multipart/complete",
            json={"upload_id": answer["upload_id"], "sha256": whole.hexdigest()},
            timeout=SLOW_ANSWER_S,
        )
    except ValidationError:
        state_file.unlink(missing_ok=True)  # the server discarded the upload
        raise
    state_file.unlink(missing_ok=True)
    return artifact


def _resume_or_start(
    client: ComputalotClient, state_file: Path, name: str, size: int, part_size: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(state, upload answer): the upload recorded in `state_file` if the server still has it, else a new one."""
    state = _load_state(state_file)
    if state is not None:
        with contextlib.suppress(NotFound):
            answer = client._json("GET", f"/api/v1/artifacts/multipart/{quote(state['upload_id'], safe='')}")
            if answer.get("size") == size:
                logger.info("upload=%s resumed: %d parts already received", state["upload_id"], len(answer["received"]))
                return state, answer
    answer = client._json(
        "POST", "/api/v1/artifacts/multipart", json={"filename": name, "size": size, "part_size": part_size}
    )
    state = {"upload_id": answer["upload_id"], "size": size, "part_size": answer["part_size"], "parts": {}}
    _save_state(state_file, state)
    return state, answer


# -- downloads ------------------------------------------------------------------------------------------------


def download(
    client: ComputalotClient, artifact_id: str, path: str | os.PathLike[str], *, progress: bool = False
) -> Path:
    """Download an artifact; see `ComputalotClient.download_artifact`."""
    dest = Path(path)
    meta = client.get_artifact(artifact_id)
    size, sha256 = meta["size"], meta["sha256"]
    partial = dest.with_name(dest.name + ".part")
    offset = partial.stat().st_size if partial.exists() else 0
    if offset > size:
        partial.unlink()
        offset = 0
    with _Bar(progress, f"download {meta.get('filename', artifact_id)}", size) as bar:
        bar.advance(offset)
        if offset < size or size == 0:
            _fetch(client, artifact_id, partial, offset, sha256, bar)
    if sha256_file(partial) != sha256:
        partial.unlink(missing_ok=True)
        raise ComputalotError(
            f"the downloaded bytes of {artifact_id} do not match its sha256; run the download again",
            code="checksum_mismatch",
        )
    os.replace(partial, dest)
    return dest


def _fetch(client: ComputalotClient, artifact_id: str, partial: Path, offset: int, sha256: str, bar: _Bar) -> None:
    headers = {"Range": f"bytes={offset}-", "If-Range": f'"{sha256}"'} if offset else {}
    url = f"/api/v1/artifacts/{quote(artifact_id, safe='')}"
    try:
        with client._http.stream("GET", url, headers=headers, timeout=SLOW_ANSWER_S) as response:
            if not response.is_success:
                raise from_response(response.status_code, response.read())
            mode = "ab" if response.status_code == 206 else "wb"
            with partial.open(mode) as out:
                for chunk in response.iter_bytes(CHUNK_BYTES):
                    out.write(chunk)
                    bar.advance(len(chunk))
    except httpx.TransportError as exc:
        raise ConnectionFailed(
            f"download of {artifact_id} interrupted: {exc}",
            recommended_action="Run the download again: it resumes from the partial file.",
        ) from exc
