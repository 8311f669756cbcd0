"""The `packing` payload schema accepts the spec's payloads and rejects bad ones, naming the field."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from recipes.base import RecipeError
from recipes.packing import RECIPE
from recipes.packing.schema import PAYLOAD_SCHEMA, validate_payload, with_defaults
from tests.recipes.packing_support import GRID, FakeContext

VALIDATOR = Draft202012Validator(PAYLOAD_SCHEMA)

BAD_PAYLOADS = [
    ({}, "operation"),
    ({"operation": "pack"}, "operation"),
    ({"operation": "eval"}, "candidate"),
    ({"operation": "eval", "candidate": GRID[:44]}, "candidate"),
    ({"operation": "eval", "candidate": ["1"] + GRID[1:]}, "candidate/0"),
    ({"operation": "eval", "candidate": [True] + GRID[1:]}, "candidate/0"),
    ({"operation": "eval", "candidate_ref": ""}, "candidate_ref"),
    ({"operation": "eval", "candidate": GRID, "penalty": -1}, "penalty"),
    ({"operation": "eval", "candidate": GRID, "seed": 1}, "seed"),
    ({"operation": "eval", "candidiate": GRID}, "candidiate"),
    ({"operation": "eval_batch"}, "candidates"),
    ({"operation": "eval_batch", "candidates": GRID}, "candidates/0"),
    ({"operation": "eval_batch", "candidates": [GRID], "candidate": GRID}, "candidate"),
    ({"operation": "feasible_optimize", "seed": -1}, "seed"),
    ({"operation": "feasible_optimize", "seed": 1.5}, "seed"),
    ({"operation": "feasible_optimize", "max_iters": 0}, "max_iters"),
    ({"operation": "feasible_optimize", "n_restarts": 0}, "n_restarts"),
    ({"operation": "feasible_optimize", "hop_scale": 0.2}, "hop_scale"),
    ({"operation": "basin_hopping", "hop_scale": 0}, "hop_scale"),
    ({"operation": "basin_hopping", "population_size": 10}, "population_size"),
    ({"operation": "differential_evolution", "population_size": 4}, "population_size"),
    ({"operation": "differential_evolution", "time_limit_s": 0}, "time_limit_s"),
    ({"operation": "differential_evolution", "candidates": [GRID]}, "candidates"),
]


def test_the_schema_is_valid_draft_2020_12():
    # Given the payload schema
    # When it is checked against the draft 2020-12 meta-schema
    # Then it passes
    Draft202012Validator.check_schema(PAYLOAD_SCHEMA)
    assert PAYLOAD_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(("payload", "field"), BAD_PAYLOADS, ids=[f for _, f in BAD_PAYLOADS])
def test_jsonschema_rejects_a_bad_payload_with_an_error_naming_the_field(payload, field):
    # Given a payload with one bad field
    # When jsonschema validates it
    errors = list(VALIDATOR.iter_errors(payload))
    # Then some error names the field, by its path or in its message
    assert errors
    named = ["/".join(map(str, e.absolute_path)) for e in errors] + [e.message for e in errors]
    assert any(field == n or field.split("/")[0] in n for n in named), named


@pytest.mark.parametrize(("payload", "field"), BAD_PAYLOADS, ids=[f for _, f in BAD_PAYLOADS])
def test_the_recipe_wrapper_raises_a_recipe_error_naming_the_field(payload, field):
    # Given a bad payload
    # When it is validated by the recipe's own wrapper
    # Then a RecipeError names the field
    with pytest.raises(RecipeError, match=field.split("/")[0]):
        validate_payload(payload)


@pytest.mark.parametrize(
    "payload",
    [
        {"operation": "eval", "candidate": GRID},
        {"operation": "eval", "candidate": GRID, "candidate_ref": "art_1", "penalty": 0},
        {"operation": "eval_batch", "candidates": [GRID, [1, 2], []]},
        {"operation": "eval_batch", "candidates_ref": "art_2"},
        {"operation": "feasible_optimize"},
        {"operation": "feasible_optimize", "candidate_ref": "art_3", "n_restarts": 2, "max_iters": 10, "seed": 7},
        {"operation": "basin_hopping", "hop_scale": 0.05, "time_limit_s": 1.5},
        {"operation": "differential_evolution", "population_size": 5, "candidate": GRID},
    ],
)
def test_the_schema_accepts_the_payloads_the_spec_allows(payload):
    # Given a well-formed payload
    # When it is validated
    # Then there is no error
    assert list(VALIDATOR.iter_errors(payload)) == []
    validate_payload(payload)


def test_defaults_are_the_spec_values_per_operation(tmp_path):
    # Given minimal payloads and a task with 100 s left
    ctx = FakeContext(tmp_path, timeout_s=100.0)
    # When defaults are filled in
    fo = with_defaults({"operation": "feasible_optimize"}, ctx)
    bh = with_defaults({"operation": "basin_hopping"}, ctx)
    de = with_defaults({"operation": "differential_evolution"}, ctx)
    ev = with_defaults({"operation": "eval", "candidate": GRID}, ctx)
    # Then they are spec §2.2's, and time_limit_s is 80 % of the time left
    assert {k: fo[k] for k in ("penalty", "seed", "max_iters", "n_restarts")} == {
        "penalty": 1000.0,
        "seed": 0,
        "max_iters": 20000,
        "n_restarts": 4,
    }
    assert (bh["max_iters"], bh["hop_scale"]) == (100, 0.1)
    assert (de["max_iters"], de["population_size"]) == (1000, 50)
    assert fo["time_limit_s"] == 80.0
    assert ev == {"penalty": 1000.0}


def test_time_limit_defaults_to_240_s_without_a_deadline(tmp_path):
    # Given a context without a finite deadline
    ctx = FakeContext(tmp_path)
    ctx.deadline = float("inf")
    # When defaults are filled in
    # Then time_limit_s is 240 s
    assert with_defaults({"operation": "basin_hopping"}, ctx)["time_limit_s"] == 240.0


def test_the_recipe_publishes_its_operations_schema_and_artifact_inputs():
    # Given the registered recipe
    # When its metadata is read
    # Then it names the five operations and the two artifact inputs, and its examples validate
    assert set(RECIPE.operations) == {
        "eval",
        "eval_batch",
        "feasible_optimize",
        "basin_hopping",
        "differential_evolution",
    }
    assert RECIPE.artifact_inputs == ("candidate_ref", "candidates_ref")
    for example in RECIPE.examples:
        assert list(VALIDATOR.iter_errors(example)) == []
