"""Parsing and validation of a project's `computalot.project.json` (specs/PLATFORM.md, Projects)."""

from __future__ import annotations

import difflib
import json
import posixpath
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Any

from controller.core import json_depth
from controller.core.errors import InvalidManifest, field_error

MANIFEST_NAME = "computalot.project.json"
RUNTIME_KINDS = ("oci", "process")
#: Sandboxes an `oci` runtime may ask for.
OCI_SANDBOXES = ("gvisor",)

_TOP_KEYS = (
    "version",
    "name",
    "description",
    "runtime",
    "entrypoint",
    "build",
    "validation",
    "data_sources",
    "cache_mounts",
)
_RUNTIME_KEYS = ("kind", "workdir", "sandbox", "init", "services")
_INIT_KEYS = ("commands",)
_ENTRYPOINT_KEYS = ("command",)
_VALIDATION_KEYS = ("executables", "files", "commands")

#: A command is an argv list or one shell string.
Command = tuple[str, ...] | str


@dataclass(frozen=True, slots=True)
class Manifest:
    """A validated manifest; `raw` keeps the parsed JSON for the parts passed through unchanged."""

    version: int
    runtime_kind: str
    workdir: str = "."
    command: tuple[str, ...] = ()
    init_commands: tuple[Command, ...] = ()
    sandbox: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def parse_manifest(data: bytes) -> Manifest:
    """Parses and validates manifest bytes.

    Raises:
        InvalidManifest: with every field error at once (details.fields), or one for JSON that does not parse.
    """
    raw = _load_json(data)
    check = _Checker()
    if not isinstance(raw, dict):
        check.fail(MANIFEST_NAME, f"must be a JSON object, not {_json_type(raw)}")
        raise InvalidManifest(check.errors)
    check.keys("", raw, _TOP_KEYS)
    _check_version(check, raw)
    kind, workdir, sandbox, init_commands = _check_runtime(check, raw)
    command = _check_entrypoint(check, raw.get("entrypoint"))
    _check_validation(check, raw.get("validation"))
    _check_optional_parts(check, raw)
    if check.errors:
        raise InvalidManifest(check.errors)
    return Manifest(
        version=raw["version"],
        runtime_kind=kind,
        workdir=workdir,
        command=command,
        init_commands=init_commands,
        sandbox=sandbox,
        raw=raw,
    )


def check_project_files(manifest: Manifest, paths: Set[str]) -> None:
    """Checks the manifest against the pushed tree's file paths (Dockerfile, workdir, validation.files).

    Raises:
        InvalidManifest: naming each field whose file or directory is missing.
    """
    check = _Checker()
    if manifest.runtime_kind == "oci" and "Dockerfile" not in paths:
        check.fail("runtime.kind", 'is "oci" but the project has no Dockerfile at its root; add one or use "process"')
    if manifest.workdir != "." and not any(p.startswith(manifest.workdir + "/") for p in paths):
        message = f"{manifest.workdir!r} is not a directory of the pushed tree; push it or change runtime.workdir"
        check.fail("runtime.workdir", message)
    validation = manifest.raw.get("validation") or {}
    for index, name in enumerate(validation.get("files", ())):
        if posixpath.normpath(name) not in paths:
            check.fail(f"validation.files[{index}]", f"{name!r} is not in the pushed tree; push it or remove it here")
    if check.errors:
        raise InvalidManifest(check.errors)


class _Checker:
    """Collects every field error of one manifest, so one push reports them all."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        """Records one field error."""
        self.errors.append(field_error(path, message))

    def keys(self, path: str, value: dict[str, Any], allowed: tuple[str, ...]) -> None:
        """Reports each key of `value` not in `allowed`, with the nearest allowed key when one is close."""
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f'did you mean "{close[0]}"? ' if close else ""
                self.fail(_join(path, key), f"unknown key; {hint}allowed here: {', '.join(allowed)}")

    def obj(self, path: str, value: Any, allowed: tuple[str, ...] | None = None) -> dict[str, Any] | None:
        """`value` when it is an object (its keys checked against `allowed` if given), else None after a failure."""
        if not isinstance(value, dict):
            self.fail(path, f"must be an object, not {_json_type(value)}")
            return None
        if allowed is not None:
            self.keys(path, value, allowed)
        return value

    def string(self, path: str, value: Any) -> str | None:
        """`value` when it is a non-empty string."""
        if not isinstance(value, str) or not value:
            self.fail(path, f"must be a non-empty string, not {_json_type(value)}")
            return None
        return value

    def relative_path(self, path: str, value: Any) -> str | None:
        """`value` normalised, when it is a relative path that stays inside the project."""
        text = self.string(path, value)
        if text is None:
            return None
        if text.startswith("/") or ".." in text.split("/"):
            self.fail(path, f"must be a relative path inside the project, without '..' (got {text!r})")
            return None
        return posixpath.normpath(text)

    def strings(self, path: str, value: Any, *, non_empty: bool = False) -> tuple[str, ...] | None:
        """`value` as a tuple when it is a list of non-empty strings (and not empty, if `non_empty`)."""
        if not isinstance(value, list) or (non_empty and not value):
            self.fail(path, f"must be a {'non-empty ' if non_empty else ''}list of strings, not {_json_type(value)}")
            return None
        items = [self.string(f"{path}[{i}]", item) for i, item in enumerate(value)]
        valid = [item for item in items if item is not None]
        return tuple(valid) if len(valid) == len(items) else None

    def commands(self, path: str, value: Any) -> tuple[Command, ...] | None:
        """`value` when it is a list whose items are shell strings or non-empty argv lists."""
        if not isinstance(value, list):
            self.fail(path, f"must be a list of commands (strings or lists of strings), not {_json_type(value)}")
            return None
        items = [self._command(f"{path}[{i}]", item) for i, item in enumerate(value)]
        valid = [item for item in items if item is not None]
        return tuple(valid) if len(valid) == len(items) else None

    def objects(self, path: str, value: Any) -> dict[int, dict[str, Any]]:
        """Index → object for each object of `value` when it is a list; each other item is reported."""
        if not isinstance(value, list):
            self.fail(path, f"must be a list of objects, not {_json_type(value)}")
            return {}
        items = {i: self.obj(f"{path}[{i}]", item) for i, item in enumerate(value)}
        return {i: item for i, item in items.items() if item is not None}

    def _command(self, path: str, value: Any) -> Command | None:
        if isinstance(value, list):
            return self.strings(path, value, non_empty=True)
        if isinstance(value, str) and value:
            return value
        self.fail(path, f"must be a non-empty string or a non-empty list of strings, not {_json_type(value)}")
        return None


def _check_version(check: _Checker, raw: dict[str, Any]) -> None:
    if "version" not in raw:
        check.fail("version", 'is required; set "version": 1')
    elif type(raw["version"]) is not int or raw["version"] != 1:  # `type` because True == 1
        check.fail("version", f"must be 1 (got {json.dumps(raw['version'])})")


def _check_runtime(check: _Checker, raw: dict[str, Any]) -> tuple[str, str, str | None, tuple[Command, ...]]:
    """The runtime's kind, workdir, sandbox and init commands, with failures recorded on `check`."""
    if "runtime" not in raw:
        check.fail("runtime", 'is required; add "runtime": {"kind": "process"} or {"kind": "oci"}')
        return "", ".", None, ()
    runtime = check.obj("runtime", raw["runtime"], _RUNTIME_KEYS)
    if runtime is None:
        return "", ".", None, ()
    kind = runtime.get("kind")
    if "kind" not in runtime:
        check.fail("runtime.kind", f"is required; must be one of: {', '.join(RUNTIME_KINDS)}")
    elif kind not in RUNTIME_KINDS:
        check.fail("runtime.kind", f"must be one of: {', '.join(RUNTIME_KINDS)} (got {json.dumps(kind)})")
    workdir = check.relative_path("runtime.workdir", runtime["workdir"]) if "workdir" in runtime else "."
    sandbox = _check_sandbox(check, kind, runtime)
    init_commands: tuple[Command, ...] | None = ()
    if "init" in runtime and (init := check.obj("runtime.init", runtime["init"], _INIT_KEYS)) is not None:
        init_commands = check.commands("runtime.init.commands", init["commands"]) if "commands" in init else ()
    if "services" in runtime:
        check.objects("runtime.services", runtime["services"])
    return kind or "", workdir or ".", sandbox, init_commands or ()


def _check_sandbox(check: _Checker, kind: Any, runtime: dict[str, Any]) -> str | None:
    if "sandbox" not in runtime:
        return None
    sandbox = check.string("runtime.sandbox", runtime["sandbox"])
    if sandbox is not None and kind == "oci" and sandbox not in OCI_SANDBOXES:
        check.fail("runtime.sandbox", f"must be one of: {', '.join(OCI_SANDBOXES)} for runtime.kind oci")
    return sandbox


def _check_entrypoint(check: _Checker, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    entrypoint = check.obj("entrypoint", value, _ENTRYPOINT_KEYS)
    if entrypoint is None or "command" not in entrypoint:
        return ()
    return check.strings("entrypoint.command", entrypoint["command"], non_empty=True) or ()


def _check_validation(check: _Checker, value: Any) -> None:
    if value is None:
        return
    validation = check.obj("validation", value, _VALIDATION_KEYS)
    if validation is None:
        return
    if "executables" in validation:
        check.strings("validation.executables", validation["executables"])
    if "files" in validation and check.strings("validation.files", validation["files"]) is not None:
        for index, name in enumerate(validation["files"]):
            check.relative_path(f"validation.files[{index}]", name)
    if "commands" in validation:
        check.commands("validation.commands", validation["commands"])


def _check_optional_parts(check: _Checker, raw: dict[str, Any]) -> None:
    """`name`, `description`, `build`, `data_sources` and `cache_mounts`, whose insides are passed through."""
    for key in ("name", "description"):
        if key in raw and not isinstance(raw[key], str):
            check.fail(key, f"must be a string, not {_json_type(raw[key])}")
    if "build" in raw:
        check.obj("build", raw["build"])
    if "data_sources" in raw:
        check.objects("data_sources", raw["data_sources"])
    if "cache_mounts" in raw:
        for index, mount in check.objects("cache_mounts", raw["cache_mounts"]).items():
            path = f"cache_mounts[{index}].path"
            if "path" not in mount:
                check.fail(path, "is required; give the relative path of the directory to keep between tasks")
            else:
                check.relative_path(path, mount["path"])


def _load_json(data: bytes) -> Any:
    try:
        text = data.decode(json.detect_encoding(data))
        json_depth.check_depth(text, MANIFEST_NAME)  # before decoding: the decoder recurses once per level
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidManifest([field_error(MANIFEST_NAME, f"not valid JSON: {exc}")]) from exc


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON parsers disagree on which duplicate wins; refuse rather than pick one silently.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    return "an object"
