"""Publishing project revisions: validate a pushed tarball, store it by content hash, record the revision."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.core.errors import InvalidManifest, field_error
from controller.live.models import Event
from controller.projects import tarball
from controller.projects.manifest import MANIFEST_NAME, check_project_files, parse_manifest
from controller.projects.models import Project, Revision


@dataclass(frozen=True)
class PreparedRevision:
    """A validated push, stored on disk, not yet recorded."""

    content_hash: str
    files: dict[str, str]
    size_bytes: int
    manifest: dict[str, Any]


def revision_path(revisions_dir: Path, content_hash: str) -> Path:
    """Where the tarball of a revision is kept (one file per distinct content)."""
    return revisions_dir / f"{content_hash.removeprefix('sha256:')}.tar.gz"


def prepare_revision(data: bytes, revisions_dir: Path, limits: tarball.Limits) -> PreparedRevision:
    """Validate a pushed gzip tar and its manifest and store it by content hash (no database access).

    Raises:
      InvalidTarball, PayloadTooLarge, InvalidManifest: the push is refused and nothing is kept.
    """
    revisions_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="push-", dir=revisions_dir))
    try:
        entries = tarball.extract_tarball(data, scratch / "tree", limits)
        manifest_file = scratch / "tree" / MANIFEST_NAME
        if not manifest_file.is_file():
            raise InvalidManifest(
                [field_error(MANIFEST_NAME, "missing: add computalot.project.json at the root of the tarball")]
            )
        manifest = parse_manifest(manifest_file.read_bytes())
        check_project_files(manifest, {e.path for e in entries})
        content_hash = tarball.content_hash(entries)
        target = revision_path(revisions_dir, content_hash)
        if not target.exists():
            staged = scratch / "revision.tar.gz"
            staged.write_bytes(data)
            os.replace(staged, target)
        return PreparedRevision(
            content_hash=content_hash,
            files=tarball.file_map(entries),
            size_bytes=sum(e.size for e in entries),
            manifest=manifest.raw,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def publish_revision(project_id: str, prepared: PreparedRevision) -> dict[str, Any]:
    """Record a prepared revision as the project's active one, unless its content is already active."""
    project = Project.get_by_id(project_id)
    active = Revision.get_or_none(Revision.project == project.id, Revision.number == project.active_revision)
    published = active is None or active.content_hash != prepared.content_hash
    now = time.time()
    if published:
        number = project.active_revision + 1
        revision = Revision.create(
            project=project,
            number=number,
            content_hash=prepared.content_hash,
            files=prepared.files,
            size_bytes=prepared.size_bytes,
            manifest=prepared.manifest,
            created_at=now,
        )
        project.active_revision, project.updated_at = number, now
        project.save()
    else:
        assert active is not None  # not published: the active revision already holds this content
        revision = active
    changes = tarball.diff(active.files if active else {}, prepared.files)
    body = {
        "project": project.name,
        "revision": revision.number,
        "content_hash": revision.content_hash,
        "files": len(prepared.files),
        "size_bytes": prepared.size_bytes,
        "published": published,
        "tarball_diff": changes,
    }
    Event.create(account=project.account_id, project=project, kind="push", data=body, created_at=now)
    return body
