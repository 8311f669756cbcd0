"""Reading the strategy source from a payload: `rs_source_b64`, or the `strategy_ref` artifact (a lib.rs file, or a
tar/zip archive holding exactly one `.rs` file, named lib.rs, plus an optional Cargo.toml).
"""

from __future__ import annotations

import base64
import binascii
import io
import tarfile
import tomllib
import zipfile
from pathlib import PurePosixPath
from typing import Any

from recipes.base import RecipeContext, RecipeError

MAX_SOURCE_BYTES = 1 << 20
#: Dependencies a submitted Cargo.toml may name (spec §7.1: pinocchio and wincode, plus the SDK).
ALLOWED_DEPENDENCIES = {"pinocchio", "wincode", "prop-amm-submission-sdk", "prop_amm_submission_sdk"}


def load_source(payload: dict[str, Any], ctx: RecipeContext) -> str:
    """The strategy's Rust source.

    Raises:
        RecipeError: undecodable base64 or UTF-8, a missing artifact, an archive without exactly one lib.rs, or a
            Cargo.toml with other dependencies; the message names the field.
    """
    if "rs_source_b64" in payload:
        try:
            raw = base64.b64decode(payload["rs_source_b64"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RecipeError(f"rs_source_b64: not valid base64 ({exc})") from exc
        return _text(raw, "rs_source_b64")
    ref = payload["strategy_ref"]
    try:
        raw = ctx.artifact_path(ref).read_bytes()
    except OSError as exc:
        raise RecipeError(f"strategy_ref: artifact {ref!r} cannot be read ({exc})") from exc
    return _text(_from_archive(raw) if _is_archive(raw) else raw, "strategy_ref")


def _text(raw: bytes, field: str) -> str:
    if len(raw) > MAX_SOURCE_BYTES:
        raise RecipeError(f"{field}: the source is {len(raw)} bytes; the limit is {MAX_SOURCE_BYTES}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecipeError(f"{field}: the source is not UTF-8 text ({exc})") from exc


def _is_archive(raw: bytes) -> bool:
    return zipfile.is_zipfile(io.BytesIO(raw)) or _tar(raw) is not None


def _tar(raw: bytes) -> tarfile.TarFile | None:
    try:
        return tarfile.open(fileobj=io.BytesIO(raw), mode="r:*")
    except (tarfile.TarError, EOFError, OSError):
        return None


def _members(raw: bytes) -> dict[str, bytes]:
    if zipfile.is_zipfile(io.BytesIO(raw)):
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir() and i.file_size <= MAX_SOURCE_BYTES}
    tar = _tar(raw)
    assert tar is not None
    with tar:
        files = [m for m in tar.getmembers() if m.isfile() and m.size <= MAX_SOURCE_BYTES]
        return {m.name: tar.extractfile(m).read() for m in files}  # type: ignore[union-attr]


def _from_archive(raw: bytes) -> bytes:
    members = _members(raw)
    rust = [name for name in members if name.endswith(".rs")]
    if len(rust) != 1 or PurePosixPath(rust[0]).name != "lib.rs":
        found = ", ".join(rust) or "none"
        raise RecipeError(f"strategy_ref: the archive must hold exactly one Rust file, lib.rs (found: {found})")
    for name, content in members.items():
        if PurePosixPath(name).name == "Cargo.toml":
            _check_manifest(content)
    return members[rust[0]]


def _check_manifest(content: bytes) -> None:
    try:
        manifest = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RecipeError(f"strategy_ref: Cargo.toml does not parse ({exc})") from exc
    extra = set(manifest.get("dependencies", {})) - ALLOWED_DEPENDENCIES
    if extra:
        raise RecipeError(f"strategy_ref: dependencies are limited to pinocchio and wincode (found {sorted(extra)})")
