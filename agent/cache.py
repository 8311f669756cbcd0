"""Project revisions unpacked on this host, keyed by content hash (fetched once, shared by tasks)."""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import threading
from pathlib import Path

from agent.client import ControllerClient


class RevisionCache:
    """Download-and-unpack once per content hash; concurrent tasks of one revision wait for the first."""

    def __init__(self, root: Path, client: ControllerClient) -> None:
        self.root = root
        self.client = client
        self.root.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, content_hash: str) -> Path:
        return self.root / content_hash.removeprefix("sha256:")

    def ensure(self, content_hash: str) -> Path:
        """The unpacked tree of a revision, fetching it first if needed."""
        target = self.path(content_hash)
        if target.is_dir():
            return target
        with self._guard:
            lock = self._locks.setdefault(content_hash, threading.Lock())
        with lock:
            if not target.is_dir():
                self._fetch(content_hash, target)
        return target

    def _fetch(self, content_hash: str, target: Path) -> None:
        staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=self.root))
        try:
            archive = staging / "revision.tar.gz"
            self.client.download_revision(content_hash.removeprefix("sha256:"), archive)
            tree = staging / "tree"
            with tarfile.open(archive, "r:gz") as tar:
                # The controller validated the archive; the data filter still refuses anything unsafe.
                tar.extractall(tree, filter="data")
            os.replace(tree, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def revisions(self) -> tuple[str, ...]:
        """Content hashes unpacked here."""
        return tuple(f"sha256:{p.name}" for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
