"""Public JSON shape of a project."""

from __future__ import annotations

from typing import Any

from controller.core.web import iso
from controller.projects.models import Project, Revision


def project_json(project: Project, revision: Revision | None) -> dict[str, Any]:
    return {
        "name": project.name,
        "description": project.description,
        "remote_dir": project.remote_dir,
        "active_revision": project.active_revision or None,
        "content_hash": revision.content_hash if revision else None,
        "runtime": (revision.manifest.get("runtime") or {}).get("kind") if revision else None,
        "created_at": iso(project.created_at),
        "updated_at": iso(project.updated_at),
    }
