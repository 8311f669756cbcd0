"""The `echidna` payload schema (what the controller checks at submit) and the command line built from a payload."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from recipes import queue_keys
from recipes.base import RecipeError
from recipes.echidna import RECIPE
from recipes.echidna.command import CONFIG_KEYS, FLAGS, build, crytic_args
from recipes.echidna.project import FOUNDRY, HARDHAT, Project
from recipes.echidna.schema import TEST_MODES, validate_payload

BASE = {"operation": "foundry_prebuilt", "project_ref": "art_p", "contract": "TestToken"}
EVERY_FIELD = {
    **BASE,
    "test_mode": "assertion",
    "test_limit": 1000,
    "seq_len": 20,
    "shrink_limit": 0,
    "seed": 7,
    "stop_on_fail": True,
    "workers": 3,
}
FOUNDRY_PROJECT = Project(FOUNDRY, Path("/p"), "out", {"TestToken": True})
HARDHAT_PROJECT = Project(HARDHAT, Path("/p"), "artifacts", {"TestToken": True})


def _fields_in_error(payload):
    return sorted(
        "/".join(map(str, e.absolute_path)) for e in Draft202012Validator(RECIPE.payload_schema).iter_errors(payload)
    )


def test_the_schema_is_valid_draft_2020_12_and_accepts_every_field():
    Draft202012Validator.check_schema(RECIPE.payload_schema)

    assert _fields_in_error(EVERY_FIELD) == []
    assert _fields_in_error({**BASE, "operation": "hardhat_prebuilt"}) == []
    for example in RECIPE.examples:
        assert _fields_in_error(example) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"contract": "Token; rm -rf /"}, "contract"),
        ({"contract": ""}, "contract"),
        ({"test_mode": "fuzz"}, "test_mode"),
        ({"test_limit": 0}, "test_limit"),
        ({"seq_len": 1.5}, "seq_len"),
        ({"shrink_limit": -1}, "shrink_limit"),
        ({"seed": -3}, "seed"),
        ({"stop_on_fail": "yes"}, "stop_on_fail"),
        ({"workers": 0}, "workers"),
        ({"operation": "compile_and_fuzz"}, "operation"),
        ({"project_ref": ""}, "project_ref"),
        ({"timeout": 5}, ""),
    ],
)
def test_a_bad_field_is_named_at_submit(change, field):
    assert _fields_in_error({**BASE, **change}) == [field]


@pytest.mark.parametrize("missing", ["operation", "project_ref", "contract"])
def test_a_missing_required_field_is_rejected(missing):
    payload = {k: v for k, v in BASE.items() if k != missing}

    with pytest.raises(RecipeError, match=missing):
        validate_payload(payload)


def test_every_test_mode_is_offered():
    assert set(TEST_MODES) == {"property", "assertion", "foundry", "overflow", "optimization", "exploration"}


def test_the_recipe_requires_the_echidna_capability_and_nothing_per_operation():
    assert RECIPE.requires == ("echidna",)
    assert set(RECIPE.operations) == {"foundry_prebuilt", "hardhat_prebuilt"}
    assert RECIPE.artifact_inputs == ("project_ref",)
    # every operation runs on the recipe's base queue: the capability gates the recipe as a whole
    assert queue_keys(RECIPE, ("echidna",)) == [()]


def test_every_field_maps_to_its_echidna_option(tmp_path):
    # When the command line of a payload setting every field is built
    invocation = build("/bin/echidna", EVERY_FIELD, FOUNDRY_PROJECT, tmp_path / "corpus", tmp_path / "c.json", 600)
    argv = invocation.argv

    # Then each field appears as Echidna's own flag, after the target `.`
    assert argv[:2] == ["/bin/echidna", "."]

    def flag(name):
        return argv[argv.index(name) + 1]

    assert flag("--contract") == "TestToken"
    assert flag("--test-mode") == "assertion"
    assert (flag("--test-limit"), flag("--seq-len"), flag("--shrink-limit")) == ("1000", "20", "0")
    assert (flag("--seed"), flag("--workers")) == ("7", "3")
    assert (flag("--format"), flag("--corpus-dir"), flag("--timeout")) == ("json", str(tmp_path / "corpus"), "600")
    # And stop_on_fail, which has no flag, goes to the config file
    assert flag("--config") == str(tmp_path / "c.json")
    assert invocation.config == {"stopOnFail": True}
    assert set(FLAGS) | set(CONFIG_KEYS) | {"test_mode", "contract"} == set(EVERY_FIELD) - {"operation", "project_ref"}


def test_absent_fields_leave_echidna_defaults_and_write_no_config(tmp_path):
    invocation = build("echidna", BASE, FOUNDRY_PROJECT, tmp_path / "corpus", tmp_path / "c.json")

    assert invocation.config == {}
    assert "--config" not in invocation.argv and "--timeout" not in invocation.argv
    assert not any(flag in invocation.argv for flag in FLAGS.values())
    assert invocation.argv[invocation.argv.index("--test-mode") + 1] == "property"


@pytest.mark.parametrize("echidna_name", ["foundry", "dapptest"])
def test_the_foundry_test_mode_uses_the_name_this_echidna_knows(tmp_path, echidna_name):
    payload = {**BASE, "test_mode": "foundry"}

    argv = build("echidna", payload, FOUNDRY_PROJECT, tmp_path, tmp_path / "c", foundry_mode=echidna_name).argv

    assert argv[argv.index("--test-mode") + 1] == echidna_name


def test_crytic_compile_reads_the_existing_build_and_never_compiles(tmp_path):
    foundry = crytic_args(Project(FOUNDRY, tmp_path, "build", {}))
    hardhat = crytic_args(HARDHAT_PROJECT)

    assert foundry == [
        "--compile-force-framework",
        "foundry",
        "--foundry-ignore-compile",
        "--foundry-out-directory",
        "build",
    ]
    assert "--hardhat-ignore-compile" in hardhat
    assert hardhat[hardhat.index("--hardhat-artifacts-directory") + 1] == "artifacts"
    argv = build("echidna", BASE, HARDHAT_PROJECT, tmp_path, tmp_path / "c").argv
    assert argv[argv.index("--crytic-args") + 1] == " ".join(hardhat)
