"""Tests of the typed job kinds: the fields of sweep, map_reduce and benchmark jobs, each rule naming its field."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.core.errors import InvalidFanOut, ValidationFailed
from controller.jobs.fanout import FanOut
from controller.jobs.kinds import JOB_TYPES, TYPE_FIELDS, TYPED_FIELDS
from controller.jobs.kinds.benchmark import MAX_REPLICAS
from controller.jobs.kinds.sweep import MAX_SWEEP_COMBINATIONS, combinations
from controller.jobs.ranking import RankBy, parse_rank_by
from controller.jobs.reducing import REDUCE_OPERATORS, is_reduce_operator
from controller.jobs.spec import parse_job_spec

SWEEP = {"project": "demo", "type": "sweep", "parameters": {"lr": [0.1, 0.01]}}
BENCHMARK = {"project": "demo", "type": "benchmark", "candidates": {"a": {"k": 1}}}
MAP_REDUCE = {
    "project": "demo",
    "type": "map_reduce",
    "payload": {"xs": [1, 2, 3]},
    "split": {"by": "xs"},
    "reduce": {"operators": {"y": "sum"}},
}


def bad_fields(submission: dict[str, Any], error: type[ValidationFailed] = ValidationFailed) -> dict[str, str]:
    """The fields named by the error parse_job_spec raises for `submission`, mapped to their messages."""
    with pytest.raises(error) as caught:
        parse_job_spec(submission)
    assert type(caught.value) is error
    return {e["field"]: e["message"] for e in caught.value.errors}


def rank_by_of(value: Any) -> tuple[RankBy | None, list[tuple[str, str]]]:
    """What parse_rank_by makes of `value`, and the errors it adds."""
    errors: list[tuple[str, str]] = []
    return parse_rank_by(value, lambda name, message: errors.append((name, message))), errors


# --- the type table ----------------------------------------------------------------------------------------------


def test_each_type_owns_its_documented_fields() -> None:
    # Given the type table, Then each type lists the fields JOBS.md gives it, and rank_by is shared by two
    assert JOB_TYPES == ("structured_runner", "sweep", "map_reduce", "benchmark")
    assert TYPE_FIELDS["sweep"] == {"parameters", "fixed_payload", "rank_by"}
    assert TYPE_FIELDS["map_reduce"] == {"split", "reduce"}
    assert TYPE_FIELDS["benchmark"] == {"candidates", "shared_payload", "replicas", "rank_by"}
    assert TYPE_FIELDS["structured_runner"] == {"fan_out", "merge_strategy", "merge"}
    assert frozenset().union(*TYPE_FIELDS.values()) == TYPED_FIELDS


# --- rank_by -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("score", RankBy("score", "max")),
        ("metrics.auc", RankBy("metrics.auc", "max")),
        ({"field": "loss"}, RankBy("loss", "max")),
        ({"field": "loss", "order": "min"}, RankBy("loss", "min")),
        ({"field": "a.b", "order": "max"}, RankBy("a.b", "max")),
    ],
)
def test_rank_by_reads_a_path_or_a_field_with_an_order_defaulting_to_max(value: Any, expected: RankBy | None) -> None:
    # Given a valid rank_by, When parsed, Then it is that RankBy with no error
    assert rank_by_of(value) == (expected, [])


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "dotted path"),
        (3, "dotted path"),
        (["score"], "dotted path"),
        ({"order": "min"}, "dotted path"),
        ({"field": ""}, "dotted path"),
        ({"field": 7}, "dotted path"),
        ({"field": "loss", "order": "median"}, '"max" | "min"'),
        ({"field": "loss", "order": "MIN"}, '"max" | "min"'),
        ({"field": "loss", "direction": "min"}, '"max" | "min"'),
    ],
)
def test_a_malformed_rank_by_is_named(value: Any, says: str) -> None:
    # Given a malformed rank_by, When parsed, Then it is None and rank_by is named with the accepted shapes
    parsed, errors = rank_by_of(value)
    assert parsed is None
    assert [name for name, _ in errors] == ["rank_by"]
    assert says in errors[0][1]


@pytest.mark.parametrize("base", [SWEEP, BENCHMARK])
def test_sweeps_and_benchmarks_name_a_bad_rank_by(base: dict[str, Any]) -> None:
    # Given a sweep or benchmark with an unknown order, When parsed, Then rank_by is named
    assert list(bad_fields({**base, "rank_by": {"field": "x", "order": "up"}})) == ["rank_by"]


# --- sweep -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"parameters": None}, "parameters", "required"),
        ({"parameters": {}}, "parameters", "required"),
        ({"parameters": [["lr", 1]]}, "parameters", "required"),
        ({"parameters": {"lr": []}}, "parameters", "non-empty list"),
        ({"parameters": {"lr": 0.1}}, "parameters", "non-empty list"),
        ({"parameters": {"lr": [1], "depth": "3"}}, "parameters", "non-empty list"),
        ({"parameters": {"a": list(range(101)), "b": list(range(100))}}, "parameters", "10100 combinations"),
        ({"fixed_payload": [1]}, "fixed_payload", "JSON object"),
        ({"fixed_payload": None}, "fixed_payload", "JSON object"),
    ],
)
def test_a_bad_sweep_field_is_named(fields: dict[str, Any], field: str, says: str) -> None:
    # Given a sweep with one bad field
    submission = {k: v for k, v in {**SWEEP, **fields}.items() if v is not None or k != "parameters"}

    # When parsed, Then a 422 names exactly that field, saying what is wrong
    errors = bad_fields(submission)
    assert list(errors) == [field]
    assert says in errors[field]


def test_a_sweep_grid_of_exactly_the_limit_is_accepted() -> None:
    # Given a 100 x 100 grid (10,000 combinations), When parsed, Then it is accepted
    spec = parse_job_spec({**SWEEP, "parameters": {"a": list(range(100)), "b": list(range(100))}})
    assert math.prod(len(v) for v in spec.parameters.values()) == MAX_SWEEP_COMBINATIONS


def test_a_sweep_defaults_to_an_empty_fixed_payload_and_no_rank_by() -> None:
    # Given a sweep with only parameters, When parsed, Then fixed_payload is {} and rank_by None
    spec = parse_job_spec(SWEEP)
    assert (spec.type, spec.fixed_payload, spec.rank_by) == ("sweep", {}, None)


def test_combinations_vary_the_last_parameter_fastest() -> None:
    # Given a 2 x 3 grid, When its combinations are listed, Then the first parameter changes slowest
    assert combinations({"lr": [0.1, 0.01], "depth": [1, 2, 3]}) == [
        {"lr": 0.1, "depth": 1},
        {"lr": 0.1, "depth": 2},
        {"lr": 0.1, "depth": 3},
        {"lr": 0.01, "depth": 1},
        {"lr": 0.01, "depth": 2},
        {"lr": 0.01, "depth": 3},
    ]


@given(
    grid=st.dictionaries(
        st.text(alphabet="abcdef", min_size=1, max_size=3),
        st.lists(st.integers(), min_size=1, max_size=4, unique=True),
        min_size=1,
        max_size=4,
    )
)
def test_combinations_are_the_full_cartesian_product_without_repeats(grid: dict[str, list[int]]) -> None:
    # Given any grid of distinct values
    # When its combinations are listed
    combos = combinations(grid)

    # Then there is one per point of the product, each distinct, each drawing every parameter from its list
    assert len(combos) == math.prod(len(v) for v in grid.values())
    assert len({tuple(sorted(c.items())) for c in combos}) == len(combos)
    assert all(set(c) == set(grid) and all(c[k] in grid[k] for k in grid) for c in combos)


# --- benchmark ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"candidates": {}}, "candidates", "required"),
        ({"candidates": []}, "candidates", "required"),
        ({"candidates": "a,b"}, "candidates", "required"),
        ({"candidates": [{"name": "a"}, "b"]}, "candidates", "required"),
        ({"candidates": [{"payload": {}}]}, "candidates", "unique, non-empty name"),
        ({"candidates": [{"name": ""}]}, "candidates", "unique, non-empty name"),
        ({"candidates": [{"name": 3}]}, "candidates", "unique, non-empty name"),
        ({"candidates": [{"name": "a"}, {"name": "a"}]}, "candidates", "unique, non-empty name"),
        ({"candidates": {"a": [1]}}, "candidates", "must be an object"),
        ({"candidates": [{"name": "a", "payload": "x"}]}, "candidates", "must be an object"),
        ({"shared_payload": [1]}, "shared_payload", "JSON object"),
        ({"replicas": 0}, "replicas", f"from 1 to {MAX_REPLICAS}"),
        ({"replicas": MAX_REPLICAS + 1}, "replicas", f"from 1 to {MAX_REPLICAS}"),
        ({"replicas": 2.0}, "replicas", "integer"),
        ({"replicas": "2"}, "replicas", "integer"),
        ({"replicas": True}, "replicas", "integer"),
    ],
)
def test_a_bad_benchmark_field_is_named(fields: dict[str, Any], field: str, says: str) -> None:
    # Given a benchmark with one bad field
    # When parsed, Then a 422 names exactly that field, saying what is wrong
    errors = bad_fields({**BENCHMARK, **fields})
    assert list(errors) == [field]
    assert says in errors[field]


def test_a_benchmark_requires_candidates() -> None:
    # Given a benchmark without candidates, When parsed, Then candidates is named
    assert list(bad_fields({"project": "demo", "type": "benchmark"})) == ["candidates"]


@pytest.mark.parametrize("replicas", [1, MAX_REPLICAS])
def test_replica_bounds_are_inclusive(replicas: int) -> None:
    # Given replicas on a bound, When parsed, Then it is kept
    assert parse_job_spec({**BENCHMARK, "replicas": replicas}).replicas == replicas


def test_candidates_as_an_object_or_a_list_give_the_same_spec() -> None:
    # Given the same candidates written both ways (a list entry without payload means no overrides)
    as_object = parse_job_spec({**BENCHMARK, "candidates": {"fast": {"k": 1}, "slow": {}}})
    as_list = parse_job_spec({**BENCHMARK, "candidates": [{"name": "fast", "payload": {"k": 1}}, {"name": "slow"}]})

    # Then both parse to the same ordered (name, overrides) pairs, with one replica and no shared payload
    assert as_object == as_list
    assert as_object.candidates == (("fast", {"k": 1}), ("slow", {}))
    assert (as_object.replicas, as_object.shared_payload) == (1, {})


# --- map_reduce --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reduce", "fields", "says"),
    [
        (None, {"reduce"}, "required"),
        ({}, {"reduce"}, "required"),
        ("sum", {"reduce"}, "required"),
        ({"operators": {"y": "sum"}, "combine": "x"}, {"reduce"}, "required"),
        ({"operators": {}}, {"reduce"}, "either operators"),
        ({"operators": {"y": "sum"}, "runner_command": ["r"]}, {"reduce"}, "either operators"),
        ({"operators": ["sum"]}, {"reduce.operators", "reduce"}, "result field -> operator"),
        ({"operators": {"y": "median"}}, {"reduce.operators.y"}, "unknown operator 'median'"),
        ({"operators": {"y": "SUM"}}, {"reduce.operators.y"}, "unknown operator"),
        ({"operators": {"y": "weighted_mean:"}}, {"reduce.operators.y"}, "weighted_mean:<weight_field>"),
        ({"operators": {"y": 3}}, {"reduce.operators.y"}, "unknown operator"),
        ({"runner_command": []}, {"reduce.runner_command", "reduce"}, "non-empty list"),
        ({"runner_command": "python r.py"}, {"reduce.runner_command", "reduce"}, "non-empty list"),
        ({"runner_command": ["python", ""]}, {"reduce.runner_command", "reduce"}, "non-empty strings"),
    ],
)
def test_a_bad_reduce_is_named(reduce: Any, fields: set[str], says: str) -> None:
    # Given a map_reduce whose reduce is malformed
    submission = {**MAP_REDUCE, "reduce": reduce}
    if reduce is None:
        del submission["reduce"]

    # When parsed
    errors = bad_fields(submission)

    # Then the reduce fields at fault are named, the most specific saying what is wrong
    assert set(errors) == fields
    specific = sorted(fields, key=len)[-1]
    assert says in errors[specific]


def test_an_unknown_operator_message_lists_the_operators() -> None:
    # Given an unknown operator, When parsed, Then the message lists every operator
    message = bad_fields({**MAP_REDUCE, "reduce": {"operators": {"y": "avg"}}})["reduce.operators.y"]
    assert all(op in message for op in REDUCE_OPERATORS)


@pytest.mark.parametrize(
    ("split", "field"),
    [
        ("xs", "split"),
        ({}, "split"),
        ({"by": "xs", "items": [{}]}, "split"),
        ({"by": "missing"}, "split.by"),
        ({"items": []}, "split.items"),
        ({"chunks": 0, "range_field": "n", "total": 4}, "split.chunks"),
        ({"chunks": 2, "total": 4}, "split.range_field"),
        ({"by": "xs", "batch_size": 0}, "split.batch_size"),
        ({"by": "xs", "total": 4}, "split.total"),
    ],
)
def test_a_bad_split_is_an_invalid_fan_out_naming_split(split: Any, field: str) -> None:
    # Given a map_reduce with a malformed split
    # When parsed, Then an invalid_fan_out names the split (not fan_out) part at fault
    assert list(bad_fields({**MAP_REDUCE, "split": split}, error=InvalidFanOut)) == [field]


def test_a_map_reduce_requires_a_split() -> None:
    # Given a map_reduce without split, When parsed, Then split is named with an example
    errors = bad_fields({k: v for k, v in MAP_REDUCE.items() if k != "split"})
    assert list(errors) == ["split"]
    assert "required" in errors["split"]


def test_a_valid_map_reduce_keeps_its_split_and_reduce() -> None:
    # Given a map_reduce with a batched split and a reduce task
    spec = parse_job_spec(
        {**MAP_REDUCE, "split": {"by": "xs", "batch_size": 2}, "reduce": {"runner_command": ["python3", "r.py"]}}
    )

    # Then the split is a FanOut and the command a tuple, with no operators
    assert spec.split == FanOut(by="xs", batch_size=2)
    assert spec.reduce == {"operators": {}, "runner_command": ("python3", "r.py")}


@pytest.mark.parametrize("op", [*REDUCE_OPERATORS, "weighted_mean:n", "weighted_mean:size_kb"])
def test_every_documented_operator_is_a_reduce_operator(op: str) -> None:
    # Given a documented operator, Then it is recognised and accepted in a submission
    assert is_reduce_operator(op)
    assert parse_job_spec({**MAP_REDUCE, "reduce": {"operators": {"y": op}}}).reduce["operators"] == {"y": op}


@pytest.mark.parametrize("op", ["", "median", "Sum", "weighted_mean", "weighted_mean:", None, 1, ["sum"]])
def test_anything_else_is_not_a_reduce_operator(op: Any) -> None:
    # Given an undocumented operator, Then it is not recognised
    assert not is_reduce_operator(op)
