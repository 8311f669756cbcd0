"""Artifact references inside job payloads, checked at submit.

- `payload._artifacts = {"download": [{"ref": "art_…", "path": "rel/path"}]}`: artifacts the agent
  places under the task's `$COMPUTALOT_INPUT_DIR` before the command starts.
- recipe payload fields ending in `_ref`: artifact ids the recipe reads.

Every ref must name one of the caller's artifacts; another account's id is as unknown as a
made-up one (422 naming the field, never a hint that it exists).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from controller.accounts.models import Account
from controller.artifacts.models import Artifact
from controller.core.errors import ValidationFailed, field_error

#: The payload key holding artifact downloads.
ARTIFACTS_KEY = "_artifacts"
#: Most downloads one task may ask for.
MAX_DOWNLOADS = 100
MAX_PATH = 500


def validate_payload_artifacts(account: Account, payload: dict[str, Any], where: str = "payload") -> None:
    """Check `payload._artifacts` (if any): its shape, relative paths, and that each ref is the caller's.

    Raises:
      ValidationFailed: naming each bad field, e.g. `payload._artifacts.download[0].ref`.
    """
    if ARTIFACTS_KEY not in payload:
        return
    errors: list[dict[str, str]] = []
    refs: dict[str, str] = {}
    spec = payload[ARTIFACTS_KEY]
    base = f"{where}.{ARTIFACTS_KEY}"
    if not isinstance(spec, dict) or set(spec) - {"download"}:
        raise ValidationFailed([field_error(base, 'must be an object {"download": [{"ref": "art_…", "path": "…"}]}')])
    downloads = spec.get("download", [])
    if not isinstance(downloads, list) or len(downloads) > MAX_DOWNLOADS:
        raise ValidationFailed([field_error(f"{base}.download", f"must be a list of at most {MAX_DOWNLOADS} objects")])
    paths: dict[str, str] = {}
    for i, entry in enumerate(downloads):
        name = f"{base}.download[{i}]"
        if not isinstance(entry, dict) or set(entry) - {"ref", "path"}:
            errors.append(field_error(name, 'must be an object {"ref": "art_…", "path": "relative/path"}'))
            continue
        if isinstance(entry.get("ref"), str):
            refs[f"{name}.ref"] = entry["ref"]
        else:
            errors.append(field_error(f"{name}.ref", "required: the id of one of your artifacts (art_…)"))
        path = entry.get("path")
        problem = path_problem(path) if path is not None else None
        if problem:
            errors.append(field_error(f"{name}.path", problem))
        elif path is not None and normal_path(path) in paths:
            errors.append(field_error(f"{name}.path", "another download already uses this path"))
        elif path is not None:
            paths[normal_path(path)] = f"{name}.path"
    errors += _nested_paths(paths)
    errors += _unknown_refs(account, refs)
    if errors:
        raise ValidationFailed(errors)


def validate_refs(account: Account, payload: dict[str, Any], fields: Iterable[str] | None = None) -> None:
    """Check recipe artifact inputs: each of `fields` (default: every key ending in `_ref`) present in
    `payload` must be the id of one of the caller's artifacts.

    Raises:
      ValidationFailed: naming each bad field as `payload.<field>`.
    """
    names = [f for f in payload if f.endswith("_ref")] if fields is None else [f for f in fields if f in payload]
    errors = []
    refs = {}
    for name in names:
        if isinstance(payload[name], str):
            refs[f"payload.{name}"] = payload[name]
        else:
            errors.append(field_error(f"payload.{name}", "must be the id of one of your artifacts (art_…)"))
    errors += _unknown_refs(account, refs)
    if errors:
        raise ValidationFailed(errors)


def path_problem(path: Any) -> str | None:
    """Why `path` cannot name a file under the task's input directory, or None when it can."""
    if not isinstance(path, str) or not path or len(path) > MAX_PATH:
        return f"must be a relative path of 1-{MAX_PATH} characters"
    if "\0" in path or "\\" in path:
        return "must not contain NUL or backslashes"
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        return "must be relative, without '..'"
    if not pure.parts or pure.parts == (".",):
        return "must name a file"
    return None


def _nested_paths(paths: dict[str, str]) -> list[dict[str, str]]:
    """An error for each path that lies inside another download's file."""
    return [
        field_error(field, f"lies inside the file of another download ({parent!r})")
        for path, field in paths.items()
        for parent in (p.as_posix() for p in PurePosixPath(path).parents if p.as_posix() != ".")
        if parent in paths
    ]


def normal_path(path: str) -> str:
    """A valid download path in normal form (no `.` segments or doubled slashes)."""
    return PurePosixPath(path).as_posix()


def _unknown_refs(account: Account, refs: dict[str, str]) -> list[dict[str, str]]:
    """An error for each field whose ref is not one of the account's artifacts."""
    if not refs:
        return []
    ids = set(refs.values())
    owned = {
        a.id for a in Artifact.select(Artifact.id).where(Artifact.id.in_(list(ids)), Artifact.account == account.id)
    }
    return [
        field_error(field, f"no artifact {ref!r} among yours; upload it first (POST /api/v1/artifacts)")
        for field, ref in refs.items()
        if ref not in owned
    ]
