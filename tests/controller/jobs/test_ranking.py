"""Tests of controller.jobs.ranking: dotted lookups, ranking sweep combinations, and benchmark statistics."""

from __future__ import annotations

import math
import statistics
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.jobs.ranking import RankBy, lookup, number, numeric_leaves, rank_sweep, stats, summarise_benchmark

COMBOS = [{"lr": 0.1}, {"lr": 0.01}, {"lr": 0.001}]


def order_of(ranking: list[dict[str, Any]]) -> list[int]:
    """The task indices of a ranking, best first."""
    return [row["task_index"] for row in ranking]


# --- lookup and number -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "path", "expected"),
    [
        ({"score": 3}, "score", 3),
        ({"metrics": {"auc": 0.9}}, "metrics.auc", 0.9),
        ({"scores": [5, 6, 7]}, "scores.1", 6),
        ({"a": {"b": [{"c": 1}]}}, "a.b.0.c", 1),
        ({"score": None}, "score", None),
    ],
)
def test_lookup_follows_a_dotted_path_through_objects_and_lists(result: Any, path: str, expected: Any) -> None:
    # Given a result and a dotted path to a value in it, When looked up, Then the value is found
    assert lookup(result, path) == expected


@pytest.mark.parametrize(
    ("result", "path"),
    [
        ({}, "score"),
        ({"metrics": {}}, "metrics.auc"),
        ({"scores": [1]}, "scores.3"),
        ([1], "0.x"),
        (None, "a"),
        (3, "a"),
    ],
)
def test_lookup_of_a_missing_path_is_not_a_value(result: Any, path: str) -> None:
    # Given a result without the path, When looked up, Then the answer is no number and not None-as-a-value
    missing = lookup(result, path)
    assert number(missing) is None
    assert missing is not None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3.0),
        (-0.5, -0.5),
        (True, None),
        (False, None),
        ("3", None),
        (None, None),
        (math.inf, None),
        (math.nan, None),
    ],
)
def test_number_keeps_only_finite_ints_and_floats(value: Any, expected: float | None) -> None:
    # Given a JSON value, When read as a number, Then booleans, strings and non-finite floats are not numbers
    assert number(value) == expected


# --- sweep ranking -----------------------------------------------------------------------------------------------


def test_a_sweep_ranks_by_the_largest_value_by_default() -> None:
    # Given three combinations' results
    results = [{"score": 0.5}, {"score": 0.9}, {"score": 0.7}]

    # When ranked by score
    value, warnings = rank_sweep(RankBy("score"), COMBOS, results)

    # Then the best is the largest, with its params, result and value, and ranks run 1..n
    assert value["best"] == {"params": {"lr": 0.01}, "result": {"score": 0.9}, "value": 0.9}
    assert value["ranking"] == [
        {"rank": 1, "params": {"lr": 0.01}, "value": 0.9, "task_index": 1},
        {"rank": 2, "params": {"lr": 0.001}, "value": 0.7, "task_index": 2},
        {"rank": 3, "params": {"lr": 0.1}, "value": 0.5, "task_index": 0},
    ]
    assert warnings == []


def test_a_sweep_ranked_by_min_puts_the_smallest_first() -> None:
    # Given losses at a nested path
    results = [{"m": {"loss": 0.3}}, {"m": {"loss": 0.1}}, {"m": {"loss": 0.2}}]

    # When ranked by m.loss, smallest first
    value, _ = rank_sweep(RankBy("m.loss", "min"), COMBOS, results)

    # Then the order is by ascending loss
    assert order_of(value["ranking"]) == [1, 2, 0]
    assert value["best"]["value"] == 0.1


@pytest.mark.parametrize("order", ["max", "min"])
def test_ties_keep_grid_order(order: str) -> None:
    # Given equal values
    results = [{"s": 1}, {"s": 1}, {"s": 1}]

    # When ranked either way, Then the lower task index comes first and is the best
    value, _ = rank_sweep(RankBy("s", order), COMBOS, results)
    assert order_of(value["ranking"]) == [0, 1, 2]
    assert value["best"]["params"] == COMBOS[0]


def test_results_without_the_value_rank_last_in_grid_order_with_a_warning() -> None:
    # Given one result lacking the field, one with a non-number, one failed task (None) and two scored ones
    combos = [{"i": i} for i in range(5)]
    results = [{"other": 1}, {"s": 2}, None, {"s": "high"}, {"s": 5}]

    # When ranked by s
    value, warnings = rank_sweep(RankBy("s"), combos, results)

    # Then the scored ones lead, the rest follow in grid order with no value
    assert order_of(value["ranking"]) == [4, 1, 0, 2, 3]
    assert [row["value"] for row in value["ranking"]] == [5.0, 2.0, None, None, None]
    assert [row["rank"] for row in value["ranking"]] == [1, 2, 3, 4, 5]
    # And one warning counts the results that lack a numeric 's' (the failed task is not counted as one)
    assert warnings == ["2 results have no numeric 's'; they rank last"]


def test_a_sweep_where_nothing_has_the_value_has_no_best() -> None:
    # Given results none of which has the field
    value, warnings = rank_sweep(RankBy("s"), COMBOS, [{}, {}, None])

    # Then there is no best, every combination is listed in grid order, and a warning says why
    assert value["best"] is None
    assert order_of(value["ranking"]) == [0, 1, 2]
    assert len(warnings) == 1 and "'s'" in warnings[0]


def test_a_sweep_without_rank_by_lists_the_grid_in_order_with_a_warning() -> None:
    # Given no rank_by
    value, warnings = rank_sweep(None, COMBOS, [{"s": 3}, {"s": 9}, {"s": 1}])

    # Then there is no best, the ranking is the grid order without values, and a warning says so
    assert value == {
        "best": None,
        "ranking": [{"rank": i + 1, "params": combo, "value": None, "task_index": i} for i, combo in enumerate(COMBOS)],
    }
    assert len(warnings) == 1 and "rank_by" in warnings[0]


@given(
    scores=st.lists(st.none() | st.integers(-5, 5) | st.floats(-1e6, 1e6), min_size=1, max_size=30),
    order=st.sampled_from(["max", "min"]),
)
def test_a_sweep_ranking_is_a_sorted_permutation_of_the_grid(scores: list[Any], order: str) -> None:
    # Given any results, some without a score
    combos = [{"i": i} for i in range(len(scores))]
    results = [{"s": s} if s is not None else {} for s in scores]

    # When ranked
    value, _ = rank_sweep(RankBy("s", order), combos, results)
    ranking = value["ranking"]

    # Then every combination appears once, scored ones first in order (ties by index), then the rest by index
    assert sorted(order_of(ranking)) == list(range(len(scores)))
    scored = [(row["value"], row["task_index"]) for row in ranking if row["value"] is not None]
    sign = -1 if order == "max" else 1
    assert scored == sorted(scored, key=lambda vi: (sign * vi[0], vi[1]))
    assert all(row["value"] is None for row in ranking[len(scored) :])
    assert order_of(ranking[len(scored) :]) == sorted(order_of(ranking[len(scored) :]))
    assert all(row["params"] == combos[row["task_index"]] for row in ranking)


# --- numeric leaves and statistics -------------------------------------------------------------------------------


def test_numeric_leaves_are_every_finite_number_by_dotted_path() -> None:
    # Given a result with nested numbers and other values
    result = {"a": 1, "b": {"c": 2.5, "d": {"e": -1}}, "s": "x", "t": True, "l": [1, 2], "n": None, "i": math.inf}

    # Then only the numeric leaves are listed, by path (lists, strings, booleans, null and infinities are not)
    assert numeric_leaves(result) == {"a": 1.0, "b.c": 2.5, "b.d.e": -1.0}


@pytest.mark.parametrize("result", [None, [1, 2], 3, "x"])
def test_a_result_that_is_not_an_object_has_no_numeric_leaves(result: Any) -> None:
    # Given a non-object result, Then it has no leaves
    assert numeric_leaves(result) == {}


def test_stats_gives_n_mean_sample_std_min_and_max() -> None:
    # Given four values, When summarised
    summary = stats([1.0, 2.0, 3.0, 4.0])

    # Then std is the sample (n-1) standard deviation
    assert summary == {"n": 4, "mean": 2.5, "std": pytest.approx(math.sqrt(5 / 3)), "min": 1.0, "max": 4.0}


def test_stats_of_one_value_has_zero_std() -> None:
    # Given one value, Then its std is 0, not undefined
    assert stats([7.0]) == {"n": 1, "mean": 7.0, "std": 0.0, "min": 7.0, "max": 7.0}


@given(values=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50))
def test_stats_agree_with_the_statistics_module(values: list[float]) -> None:
    # Given any values, When summarised
    summary = stats(values)

    # Then they match Python's statistics (sample std)
    assert summary["n"] == len(values)
    assert summary["mean"] == pytest.approx(statistics.fmean(values), abs=1e-6)
    expected_std = statistics.stdev(values) if len(values) > 1 else 0.0
    assert summary["std"] == pytest.approx(expected_std, rel=1e-6, abs=1e-6)
    assert (summary["min"], summary["max"]) == (min(values), max(values))


# --- benchmark ---------------------------------------------------------------------------------------------------


def test_a_benchmark_summarises_every_numeric_field_per_candidate_across_replicas() -> None:
    # Given two candidates with three replicas each, candidate-major, one replica failed
    results = [
        {"time": 1.0, "m": {"acc": 0.5}, "tag": "x"},
        {"time": 2.0, "m": {"acc": 0.7}},
        {"time": 3.0, "m": {"acc": 0.6}},
        {"time": 10.0},
        None,
        {"time": 14.0},
    ]

    # When summarised
    value, warnings = summarise_benchmark(["fast", "slow"], 3, RankBy("time", "min"), results)

    # Then each candidate has its run count and the statistics of each numeric field, by dotted path
    fast, slow = value["candidates"]["fast"], value["candidates"]["slow"]
    assert fast["n"] == 3
    assert fast["fields"]["time"] == {"n": 3, "mean": 2.0, "std": 1.0, "min": 1.0, "max": 3.0}
    assert fast["fields"]["m.acc"]["mean"] == pytest.approx(0.6)
    assert "tag" not in fast["fields"]
    assert slow["n"] == 2
    assert slow["fields"] == {
        "time": {"n": 2, "mean": 12.0, "std": pytest.approx(math.sqrt(8)), "min": 10.0, "max": 14.0}
    }
    # And the ranking orders the candidates by the mean time, smallest first
    assert value["ranking"] == [
        {"rank": 1, "candidate": "fast", "mean": 2.0, "n": 3},
        {"rank": 2, "candidate": "slow", "mean": 12.0, "n": 2},
    ]
    assert warnings == []


def test_a_benchmark_ranks_by_the_largest_mean_by_default() -> None:
    # Given three candidates with one replica each
    results = [{"score": 1}, {"score": 3}, {"score": 2}]

    # When ranked by score
    value, _ = summarise_benchmark(["a", "b", "c"], 1, RankBy("score"), results)

    # Then the largest mean leads
    assert [row["candidate"] for row in value["ranking"]] == ["b", "c", "a"]


def test_candidates_without_the_ranked_field_rank_last_with_a_warning() -> None:
    # Given a candidate whose runs all failed and one without the field
    results = [{"s": 1}, None, {"other": 5}]

    # When ranked by s
    value, warnings = summarise_benchmark(["a", "b", "c"], 1, RankBy("s"), results)

    # Then they follow the ranked one in submission order, with no mean, and a warning names them
    assert value["ranking"] == [
        {"rank": 1, "candidate": "a", "mean": 1.0, "n": 1},
        {"rank": 2, "candidate": "b", "mean": None, "n": 0},
        {"rank": 3, "candidate": "c", "mean": None, "n": 1},
    ]
    assert value["candidates"]["b"] == {"n": 0, "fields": {}}
    assert len(warnings) == 1 and "b, c" in warnings[0]


def test_a_benchmark_without_rank_by_has_statistics_but_no_ranking() -> None:
    # Given no rank_by, When summarised, Then the statistics are there and the ranking is empty
    value, warnings = summarise_benchmark(["a"], 2, None, [{"s": 1}, {"s": 3}])
    assert value["candidates"]["a"]["fields"]["s"]["mean"] == 2.0
    assert (value["ranking"], warnings) == ([], [])


def test_tied_candidates_keep_submission_order() -> None:
    # Given equal means, When ranked either way, Then the earlier candidate comes first
    for order in ("max", "min"):
        value, _ = summarise_benchmark(["a", "b"], 1, RankBy("s", order), [{"s": 1}, {"s": 1}])
        assert [row["candidate"] for row in value["ranking"]] == ["a", "b"]


@given(
    means=st.lists(st.integers(-100, 100), min_size=1, max_size=6),
    replicas=st.integers(1, 4),
    order=st.sampled_from(["max", "min"]),
)
def test_a_benchmark_ranking_is_by_mean_over_each_candidates_own_replicas(
    means: list[int], replicas: int, order: str
) -> None:
    # Given candidates whose replicas each score their candidate's value (candidate-major results)
    names = [f"c{i}" for i in range(len(means))]
    results = [{"s": m} for m in means for _ in range(replicas)]

    # When summarised
    value, _ = summarise_benchmark(names, replicas, RankBy("s", order), results)

    # Then each candidate's mean is its own value, with n = replicas and zero spread, and the ranking is sorted
    for name, m in zip(names, means, strict=True):
        assert value["candidates"][name]["fields"]["s"] == {"n": replicas, "mean": m, "std": 0.0, "min": m, "max": m}
    ranked = [row["mean"] for row in value["ranking"]]
    assert ranked == sorted(ranked, reverse=order == "max")
    assert sorted(row["candidate"] for row in value["ranking"]) == sorted(names)
