"""Tests of projects.manifest: parsing, per-field errors reported together, and checks against the pushed tree."""

from __future__ import annotations

import json
from typing import Any

import pytest

from controller.core.errors import InvalidManifest
from controller.projects.manifest import MANIFEST_NAME, Manifest, check_project_files, parse_manifest


def process_manifest() -> dict[str, Any]:
    return {
        "version": 1,
        "name": "forecast",
        "description": "Monte Carlo forecasts",
        "runtime": {
            "kind": "process",
            "workdir": "./src/",
            "init": {"commands": ["pip install -r requirements.txt", ["python", "-m", "compileall", "."]]},
            "services": [{"name": "redis"}],
        },
        "entrypoint": {"command": ["python", "run.py"]},
        "build": {"anything": ["passes", "through"]},
        "validation": {
            "executables": ["python3"],
            "files": ["src/run.py"],
            "commands": ["python3 --version", ["python3", "-c", "import numpy"]],
        },
        "data_sources": [{"artifact": "art_123"}],
        "cache_mounts": [{"path": ".cache/pip"}],
    }


def oci_manifest() -> dict[str, Any]:
    return {"version": 1, "runtime": {"kind": "oci", "sandbox": "gvisor"}, "entrypoint": {"command": ["/app/run"]}}


def encode(manifest: Any) -> bytes:
    return json.dumps(manifest).encode()


def field_errors(manifest: Any) -> dict[str, str]:
    with pytest.raises(InvalidManifest) as caught:
        parse_manifest(encode(manifest) if not isinstance(manifest, bytes) else manifest)
    assert caught.value.status == 422 and caught.value.code == "invalid_manifest"
    return {e["field"]: e["message"] for e in caught.value.errors}


def with_change(path: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of `base` (the process manifest) with the dotted `path` set to `value`."""
    manifest = json.loads(json.dumps(base if base is not None else process_manifest()))
    *parents, last = path.split(".")
    node = manifest
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return manifest


# --- valid manifests -------------------------------------------------------------------------------------------


def test_a_valid_process_manifest_parses_into_its_fields() -> None:
    # Given a process manifest using every optional part
    raw = process_manifest()

    # When it is parsed
    manifest = parse_manifest(encode(raw))

    # Then the fields are typed, the workdir normalised, and the JSON kept
    assert manifest == Manifest(
        version=1,
        runtime_kind="process",
        workdir="src",
        command=("python", "run.py"),
        init_commands=("pip install -r requirements.txt", ("python", "-m", "compileall", ".")),
        sandbox=None,
        raw=raw,
    )


def test_a_valid_oci_manifest_parses_with_its_sandbox() -> None:
    # Given a minimal oci manifest
    # When it is parsed
    manifest = parse_manifest(encode(oci_manifest()))

    # Then the defaults fill the rest
    assert (manifest.runtime_kind, manifest.sandbox, manifest.workdir) == ("oci", "gvisor", ".")
    assert (manifest.command, manifest.init_commands) == (("/app/run",), ())


def test_a_manifest_without_entrypoint_has_an_empty_command() -> None:
    # Given only the required parts
    # When it is parsed, Then the command is empty
    assert parse_manifest(encode({"version": 1, "runtime": {"kind": "process"}})).command == ()


# --- invalid fields --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "field", "says"),
    [
        ("version", 2, "version", "must be 1"),
        ("version", "1", "version", "must be 1"),
        ("version", True, "version", "must be 1"),
        ("runtime", "process", "runtime", "must be an object"),
        ("runtime.kind", "docker", "runtime.kind", "must be one of: oci, process"),
        ("runtime.workdir", "/srv/app", "runtime.workdir", "relative path"),
        ("runtime.workdir", "src/../../etc", "runtime.workdir", "without '..'"),
        ("runtime.workdir", "", "runtime.workdir", "non-empty string"),
        ("runtime.sandbox", 7, "runtime.sandbox", "non-empty string"),
        ("runtime.init", ["pip install ."], "runtime.init", "must be an object"),
        ("runtime.init.commands", "pip install .", "runtime.init.commands", "list of commands"),
        ("runtime.init.commands", ["ok", 3], "runtime.init.commands[1]", "string or a non-empty list"),
        ("runtime.init.commands", [[]], "runtime.init.commands[0]", "non-empty list of strings"),
        ("runtime.init.commands", [["pip", ""]], "runtime.init.commands[0][1]", "non-empty string"),
        ("runtime.services", {"redis": {}}, "runtime.services", "list of objects"),
        ("runtime.services", ["redis"], "runtime.services[0]", "must be an object"),
        ("entrypoint", ["python", "run.py"], "entrypoint", "must be an object"),
        ("entrypoint.command", [], "entrypoint.command", "non-empty list of strings"),
        ("entrypoint.command", "python run.py", "entrypoint.command", "non-empty list of strings"),
        ("entrypoint.command", ["python", ""], "entrypoint.command[1]", "non-empty string"),
        ("build", "make", "build", "must be an object"),
        ("validation", [], "validation", "must be an object"),
        ("validation.executables", "python3", "validation.executables", "list of strings"),
        ("validation.files", ["../secrets"], "validation.files[0]", "relative path"),
        ("validation.files", [1], "validation.files[0]", "non-empty string"),
        ("validation.commands", [{"run": "x"}], "validation.commands[0]", "string or a non-empty list"),
        ("data_sources", {"a": 1}, "data_sources", "list of objects"),
        ("data_sources", [1], "data_sources[0]", "must be an object"),
        ("cache_mounts", [{"size": 3}], "cache_mounts[0].path", "is required"),
        ("cache_mounts", [{"path": "/root/.cache"}], "cache_mounts[0].path", "relative path"),
        ("cache_mounts", ["x", {"path": "../up"}], "cache_mounts[1].path", "without '..'"),
        ("name", 3, "name", "must be a string"),
        ("description", ["x"], "description", "must be a string"),
    ],
)
def test_an_invalid_field_is_named_with_what_to_change(path: str, value: Any, field: str, says: str) -> None:
    # Given a valid manifest with one field made invalid
    manifest = with_change(path, value)

    # When it is parsed
    errors = field_errors(manifest)

    # Then that field is reported with a message saying what it must be
    assert field in errors, errors
    assert says in errors[field]


def test_an_oci_sandbox_other_than_gvisor_is_refused() -> None:
    # Given an oci manifest asking for runc
    # When it is parsed, Then the sandbox is named with the allowed values
    assert field_errors(with_change("runtime.sandbox", "runc", oci_manifest())) == {
        "runtime.sandbox": "must be one of: gvisor for runtime.kind oci"
    }


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("colour", "colour"),
        ("runtime.kidn", "runtime.kidn"),
        ("runtime.init.comands", "runtime.init.comands"),
        ("entrypoint.args", "entrypoint.args"),
        ("validation.file", "validation.file"),
    ],
)
def test_an_unknown_key_is_refused_by_its_dotted_path(path: str, field: str) -> None:
    # Given a valid manifest with one unknown key added
    manifest = with_change(path, "x")

    # When it is parsed, Then the key's dotted path is reported as unknown
    assert field_errors(manifest)[field].startswith("unknown key")


def test_a_misspelt_key_gets_a_suggestion() -> None:
    # Given "kidn" for "kind"
    runtime = {"kidn": "process"}

    # When parsed, Then the message suggests the right key and says the real one is missing
    errors = field_errors({"version": 1, "runtime": runtime})
    assert 'did you mean "kind"?' in errors["runtime.kidn"]
    assert errors["runtime.kind"] == "is required; must be one of: oci, process"


def test_missing_version_and_runtime_are_reported_as_required() -> None:
    # Given an empty object
    # When it is parsed, Then both required parts are named
    assert set(field_errors({})) == {"version", "runtime"}


def test_several_errors_are_reported_together() -> None:
    # Given a manifest wrong in five places
    manifest = {"version": 3, "runtime": {"kind": "vm", "workdir": "/abs"}, "entrypoint": {"command": []}, "x": 1}

    # When it is parsed
    with pytest.raises(InvalidManifest) as caught:
        parse_manifest(encode(manifest))

    # Then all five fields are in one error, and the summary message names each
    fields = [e["field"] for e in caught.value.errors]
    assert fields == ["x", "version", "runtime.kind", "runtime.workdir", "entrypoint.command"]
    assert caught.value.details == {"fields": caught.value.errors}
    assert all(f in caught.value.message for f in fields)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"{", "not valid JSON: Expecting property name"),
        (b"", "not valid JSON"),
        (b"\xff\xfe\xfa", "not valid JSON"),
        (b'{"version": 1, "version": 1}', "not valid JSON: duplicate key 'version'"),
        (b"[1]", "must be a JSON object, not a list"),
    ],
)
def test_bytes_that_are_not_a_json_object_are_refused_as_a_whole(data: bytes, says: str) -> None:
    # Given bytes that do not parse into one JSON object
    # When they are parsed, Then the manifest file itself is the field
    errors = field_errors(data)
    assert list(errors) == [MANIFEST_NAME]
    assert errors[MANIFEST_NAME].startswith(says)


# --- checks against the tree -----------------------------------------------------------------------------------


def project_files_errors(manifest: dict[str, Any], paths: set[str]) -> dict[str, str]:
    with pytest.raises(InvalidManifest) as caught:
        check_project_files(parse_manifest(encode(manifest)), paths)
    return {e["field"]: e["message"] for e in caught.value.errors}


def test_a_tree_that_matches_the_manifest_passes() -> None:
    # Given trees with what each manifest names
    # When they are checked, Then nothing is raised
    check_project_files(parse_manifest(encode(process_manifest())), {"src/run.py", "computalot.project.json"})
    check_project_files(parse_manifest(encode(oci_manifest())), {"Dockerfile", "app/run"})


def test_an_oci_project_without_a_root_dockerfile_is_refused() -> None:
    # Given an oci manifest and a tree whose only Dockerfile is in a subdirectory
    # When it is checked, Then runtime.kind is named with what to do
    errors = project_files_errors(oci_manifest(), {"docker/Dockerfile"})
    assert list(errors) == ["runtime.kind"]
    assert "no Dockerfile at its root" in errors["runtime.kind"]


def test_a_workdir_with_no_files_under_it_is_refused() -> None:
    # Given a workdir "src" and a tree with only "srcs/run.py" and a file named "src"
    manifest = with_change("validation", {})

    # When it is checked, Then runtime.workdir is named
    assert list(project_files_errors(manifest, {"srcs/run.py", "src"})) == ["runtime.workdir"]


def test_the_root_workdir_needs_no_directory() -> None:
    # Given workdir "." and a one-file tree
    manifest = {"version": 1, "runtime": {"kind": "process", "workdir": "."}}

    # When it is checked, Then nothing is raised
    check_project_files(parse_manifest(encode(manifest)), {"run.py"})


def test_missing_validation_files_are_each_named() -> None:
    # Given validation files of which only one is in the tree
    manifest = with_change("validation.files", ["src/run.py", "data/a.csv", "./data/b.csv"])

    # When it is checked, Then each missing file is named by its index
    errors = project_files_errors(manifest, {"src/run.py", "data/c.csv"})
    assert list(errors) == ["validation.files[1]", "validation.files[2]"]
    assert "'data/a.csv' is not in the pushed tree" in errors["validation.files[1]"]
