"""Tests of controller.jobs.reducing: the map_reduce operators applied by the controller over the map results."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.jobs.reducing import reduce_results

MAPS = [
    {"edge": 2, "n": 10, "tags": ["a"]},
    {"edge": 4, "n": 30, "tags": ["b", "c"]},
    {"edge": 9, "n": 60, "tags": "d"},
]


@pytest.mark.parametrize(
    ("field", "op", "expected"),
    [
        ("edge", "sum", 15),
        ("edge", "mean", 5),
        ("edge", "min", 2),
        ("edge", "max", 9),
        ("edge", "count", 3),
        ("edge", "first", 2),
        ("tags", "concat", ["a", "b", "c", "d"]),
        ("tags", "count", 3),
        ("edge", "weighted_mean:n", (2 * 10 + 4 * 30 + 9 * 60) / 100),
    ],
)
def test_each_operator_reduces_a_field_over_the_map_results(field: str, op: str, expected: Any) -> None:
    # Given three map results, When one field is reduced with an operator
    aggregate, warnings = reduce_results({field: op}, MAPS)

    # Then the aggregate holds the operator's value under the field's name, without warnings
    assert aggregate == {field: pytest.approx(expected)}
    assert warnings == []


def test_several_fields_are_reduced_at_once() -> None:
    # Given operators on several fields, When reduced, Then each has its own value
    aggregate, _ = reduce_results({"edge": "mean", "n": "sum", "best": "max"}, [{"edge": 1, "n": 2, "best": 5}])
    assert aggregate == {"edge": 1.0, "n": 2.0, "best": 5.0}


def test_failed_maps_are_ignored() -> None:
    # Given a failed map (None) and a result that is not an object between two good ones
    results = [{"x": 1, "w": 1}, None, [1, 2], "oops", {"x": 3, "w": 3}]

    # When every operator reduces x
    ops = ["sum", "mean", "min", "max", "count", "concat", "first", "weighted_mean:w"]
    aggregate = {op: reduce_results({"x": op}, results)[0]["x"] for op in ops}

    # Then only the two good results count, and nothing warns about the failed ones
    assert aggregate == {
        "sum": 4.0,
        "mean": 2.0,
        "min": 1.0,
        "max": 3.0,
        "count": 2,
        "concat": [1, 3],
        "first": 1,
        "weighted_mean:w": 2.5,
    }
    assert all(reduce_results({"x": op}, results)[1] == [] for op in ops)


def test_results_without_the_field_or_with_null_are_skipped() -> None:
    # Given results where the field is absent or null
    results = [{"y": 1}, {"x": None}, {"x": 5}]

    # When counted, first-taken and summed, Then only the present value counts
    aggregate, warnings = reduce_results({"x": "count"}, results)
    assert (aggregate, warnings) == ({"x": 1}, [])
    assert reduce_results({"x": "first"}, results)[0] == {"x": 5}
    assert reduce_results({"x": "sum"}, results) == ({"x": 5.0}, [])


@pytest.mark.parametrize("op", ["sum", "mean", "min", "max"])
def test_non_numeric_values_are_ignored_with_a_warning(op: str) -> None:
    # Given numbers mixed with a string, a boolean and a list
    results = [{"x": 2}, {"x": "3"}, {"x": True}, {"x": [1]}, {"x": 4}]

    # When reduced numerically
    aggregate, warnings = reduce_results({"x": op}, results)

    # Then only the numbers count, and one warning names the field and how many values were ignored
    assert aggregate["x"] == {"sum": 6.0, "mean": 3.0, "min": 2.0, "max": 4.0}[op]
    assert warnings == ["x: 3 non-numeric values ignored"]


@pytest.mark.parametrize("op", ["sum", "mean", "min", "max"])
def test_a_field_with_no_numbers_is_null_with_a_warning(op: str) -> None:
    # Given no numeric value of x (only strings, or no results at all)
    for results in ([{"x": "a"}], [], [None]):
        # When reduced, Then the value is null and a warning names the field
        aggregate, warnings = reduce_results({"x": op}, results)
        assert aggregate == {"x": None}
        assert len(warnings) == 1 and warnings[0].startswith("x: ")


@pytest.mark.parametrize("op", ["count", "concat", "first"])
def test_non_numeric_operators_take_any_value(op: str) -> None:
    # Given values of mixed types, When reduced, Then count, concat and first keep them without warnings
    results = [{"x": "a"}, {"x": {"k": 1}}, {"x": True}]
    aggregate, warnings = reduce_results({"x": op}, results)
    assert aggregate["x"] == {"count": 3, "concat": ["a", {"k": 1}, True], "first": "a"}[op]
    assert warnings == []


def test_reducing_nothing_gives_empty_results() -> None:
    # Given no map results, When counted, concatenated and first-taken, Then the values are empty
    aggregate, _ = reduce_results({"a": "count", "b": "concat", "c": "first"}, [])
    assert aggregate == {"a": 0, "b": [], "c": None}


# --- weighted_mean -----------------------------------------------------------------------------------------------


def test_weighted_mean_ignores_results_without_a_positive_weight_with_a_warning() -> None:
    # Given results whose weight is missing, zero, negative or not a number
    results = [
        {"x": 1, "w": 1},
        {"x": 100},
        {"x": 100, "w": 0},
        {"x": 100, "w": -2},
        {"x": 100, "w": "5"},
        {"x": 3, "w": 3},
    ]

    # When reduced with weighted_mean:w
    aggregate, warnings = reduce_results({"x": "weighted_mean:w"}, results)

    # Then only the positively weighted results count, and a warning says how many were ignored
    assert aggregate == {"x": 2.5}
    assert len(warnings) == 1 and warnings[0].startswith("x: 4 results") and "without a positive 'w'" in warnings[0]


def test_weighted_mean_without_any_usable_result_is_null_with_a_warning() -> None:
    # Given no result with both a number and a positive weight
    aggregate, warnings = reduce_results({"x": "weighted_mean:w"}, [{"x": 1}, {"w": 2}, None])

    # Then the value is null and the warning names both fields
    assert aggregate == {"x": None}
    assert len(warnings) == 1 and "'x'" in warnings[0] and "'w'" in warnings[0]


def test_weighted_mean_ignores_non_numeric_values_with_a_warning() -> None:
    # Given a weighted result whose value is a string, next to a good one
    results = [{"x": "7", "w": 1}, {"x": 3, "w": 1}]

    # When reduced with weighted_mean:w
    aggregate, warnings = reduce_results({"x": "weighted_mean:w"}, results)

    # Then the string is ignored, and (as for sum, mean, min and max) a warning says a value was ignored
    assert aggregate == {"x": 3.0}
    assert len(warnings) == 1 and warnings[0].startswith("x: ")


@given(
    pairs=st.lists(
        st.tuples(st.floats(-1e3, 1e3), st.integers(1, 1000)),
        min_size=1,
        max_size=30,
    )
)
def test_weighted_mean_of_chunk_means_is_the_overall_mean(pairs: list[tuple[float, int]]) -> None:
    # Given map results each holding the mean of its chunk and the chunk's size
    results = [{"mean": m, "size": s} for m, s in pairs]

    # When reduced with weighted_mean:size, and the sizes summed
    aggregate, warnings = reduce_results({"mean": "weighted_mean:size", "size": "sum"}, results)

    # Then the result is the mean over every element of every chunk
    total = sum(s for _, s in pairs)
    assert aggregate["mean"] == pytest.approx(sum(m * s for m, s in pairs) / total, abs=1e-9)
    assert aggregate["size"] == total
    assert warnings == []


@given(values=st.lists(st.none() | st.integers(-100, 100) | st.floats(-1e3, 1e3), max_size=30))
def test_numeric_operators_agree_with_python_over_the_numbers(values: list[Any]) -> None:
    # Given any results, some without a value
    results = [{"x": v} for v in values]
    numbers = [float(v) for v in values if v is not None]

    # When reduced with each numeric operator
    got = {op: reduce_results({"x": op}, results)[0]["x"] for op in ("sum", "mean", "min", "max", "count")}

    # Then each equals Python's reduction of the present numbers (null when there are none)
    assert got["count"] == len(numbers)
    if not numbers:
        assert (got["sum"], got["mean"], got["min"], got["max"]) == (None, None, None, None)
        return
    assert got["sum"] == pytest.approx(math.fsum(numbers), abs=1e-6)
    assert got["mean"] == pytest.approx(math.fsum(numbers) / len(numbers), abs=1e-6)
    assert (got["min"], got["max"]) == (min(numbers), max(numbers))
