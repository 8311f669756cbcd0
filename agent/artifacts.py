"""Task inputs and outputs on the agent.

- Inputs: the payload's `_artifacts.download` entries are fetched once per sha256 into a cache
  shared by the agent's tasks, then linked (read-only: the agent's files, never the sandbox uid's)
  into the sandboxed task's working directory, which the command sees as `$COMPUTALOT_INPUT_DIR`
  (without a sandbox: the task's `inputs/` directory).
- Outputs: after the command, every regular file under `$COMPUTALOT_ARTIFACT_DIR` and the full
  output log are uploaded as artifacts of the job's account, for the task's result.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

from agent.client import ControllerClient

logger = logging.getLogger(__name__)

#: Directory of the task's scratch space holding its downloaded inputs.
INPUTS_DIR = "inputs"


class ArtifactError(Exception):
    """An input could not be placed: `missing` when it no longer exists (retrying will not help)."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class Outputs:
    """What a task attempt left behind, as uploaded artifacts."""

    artifacts: tuple[dict[str, Any], ...] = ()
    log: str = ""


def downloads_of(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(ref, path) of each `_artifacts.download` entry of a task payload (validated at submit)."""
    spec = payload.get("_artifacts")
    if not isinstance(spec, dict):
        return []
    entries = spec.get("download") or []
    return [(e["ref"], e.get("path")) for e in entries if isinstance(e, dict) and isinstance(e.get("ref"), str)]


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class ArtifactCache:
    """Artifacts downloaded to this host, one file per sha256; concurrent tasks wanting one wait for the first."""

    def __init__(self, root: Path, client: ControllerClient) -> None:
        self.root = root
        self.client = client
        root.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def ensure(self, artifact_id: str) -> Path:
        """The cached file of an artifact, downloading (and verifying) it first if needed.

        Raises:
          ArtifactError: the artifact is gone, or could not be fetched intact.
        """
        try:
            sha256, size = self.client.artifact_sha256(artifact_id)
        except httpx.HTTPStatusError as exc:
            missing = exc.response.status_code == 404
            raise ArtifactError(f"artifact {artifact_id}: {exc.response.status_code}", missing=missing) from None
        except httpx.HTTPError as exc:
            raise ArtifactError(f"artifact {artifact_id}: {exc}") from None
        target = self.root / sha256
        if target.is_file() and target.stat().st_size == size:
            return target
        with self._guard:
            lock = self._locks.setdefault(sha256, threading.Lock())
        with lock:
            if not (target.is_file() and target.stat().st_size == size):
                self._fetch(artifact_id, sha256, target)
        return target

    def _fetch(self, artifact_id: str, sha256: str, target: Path) -> None:
        fd, name = tempfile.mkstemp(prefix=".fetch-", dir=self.root)
        os.close(fd)
        staging = Path(name)
        try:
            try:
                self.client.download_artifact(artifact_id, staging)
            except httpx.HTTPError as exc:
                raise ArtifactError(f"artifact {artifact_id}: download failed: {exc}") from None
            if _sha256_of(staging) != sha256:
                raise ArtifactError(f"artifact {artifact_id}: the downloaded bytes do not match its sha256")
            staging.chmod(0o444)
            os.replace(staging, target)
            logger.info("artifact=%s cached as %s", artifact_id, sha256)
        finally:
            staging.unlink(missing_ok=True)

    def place(self, payload: dict[str, Any], inputs: Path) -> None:
        """Create `inputs` holding the payload's downloads, each at its `path` (default: the artifact id).

        Raises:
          ArtifactError: an input could not be fetched.
        """
        inputs.mkdir(parents=True, exist_ok=True)
        for ref, path in downloads_of(payload):
            cached = self.ensure(ref)
            target = inputs / PurePosixPath(path or ref)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            try:
                os.link(cached, target)  # read-only, shared with the cache: no copy of large inputs
            except OSError:
                shutil.copyfile(cached, target)


def upload_outputs(client: ControllerClient, scratch: Path, log: Path, job_id: str, task_id: str) -> Outputs:
    """Upload the files of `scratch/artifacts` and the output log; returns what was stored.

    Symbolic links and other non-regular files are skipped, and so is an artifacts directory that is itself a
    link (a task must not publish files outside its scratch).

    Raises:
      httpx.HTTPError, OSError: an upload failed.
    """
    directory = scratch / "artifacts"
    listed = []
    walkable = directory.is_dir() and not directory.is_symlink()
    for path in sorted(directory.rglob("*")) if walkable else []:
        if path.is_symlink() or not path.is_file():
            continue
        relative = path.relative_to(directory).as_posix()
        artifact = client.upload_artifact(path, relative, job_id, task_id)
        listed.append({"id": artifact["id"], "path": relative, "size": artifact["size"], "sha256": artifact["sha256"]})
    log_id = ""
    # An empty log is not worth a round trip: the (empty) tail already travels with the result.
    if log.is_file() and not log.is_symlink() and log.stat().st_size > 0:
        log_id = client.upload_artifact(log, f"{task_id}.log", job_id, task_id)["id"]
    return Outputs(tuple(listed), log_id)
