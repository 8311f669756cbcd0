"""Tests of controller.merging: per-element results, undoing batch_size, and result quality."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.jobspec import FanOut
from controller.merging import element_results, merge, result_quality, split_task_result
from controller.planning import Plan


def by_plan(n: int, batch_size: int = 1) -> Plan:
    return Plan(payload={"v": list(range(n))}, fan_out=FanOut(by="v", batch_size=batch_size))


def batched(values: list[Any], k: int) -> list[list[Any]]:
    """Per-element results grouped as a batched job's tasks return them."""
    return [values[i : i + k] for i in range(0, len(values), k)]


# --- collect -----------------------------------------------------------------------------------------------------


def test_collect_gives_the_results_in_index_order() -> None:
    # Given three tasks' results
    plan = by_plan(3)

    # When merged with collect, Then the aggregate lists them in task order
    assert merge("collect", plan, [{"i": 0}, {"i": 1}, {"i": 2}]) == [{"i": 0}, {"i": 1}, {"i": 2}]


def test_collect_puts_null_where_a_task_failed() -> None:
    # Given a failed middle task (None)
    plan = by_plan(3)

    # When merged, Then its place holds null
    assert merge("collect", plan, [{"i": 0}, None, {"i": 2}]) == [{"i": 0}, None, {"i": 2}]


def test_collect_of_a_job_without_fan_out_is_a_one_element_list() -> None:
    # Given a job without fan-out, When its result is merged, Then the aggregate is a list of it
    assert merge("collect", Plan(payload={}), [{"ok": True}]) == [{"ok": True}]


def test_a_list_result_of_an_unbatched_task_stays_one_element() -> None:
    # Given unbatched tasks that return lists
    plan = by_plan(2)

    # When merged, Then each list is one element, not spread out
    assert merge("collect", plan, [[1, 2], [3]]) == [[1, 2], [3]]


def test_a_failed_batched_task_gives_a_null_per_element() -> None:
    # Given 5 elements in batches of 2, the second task failed
    plan = by_plan(5, batch_size=2)

    # When merged
    merged = merge("collect", plan, [["a", "b"], None, ["e"]])

    # Then both of its elements are null and the others in place
    assert merged == ["a", "b", None, None, "e"]


def test_an_unknown_strategy_is_refused() -> None:
    # Given a strategy this controller does not implement, When merging, Then it is refused by name
    with pytest.raises(ValueError, match="median"):
        merge("median", by_plan(1), [{}])


# --- batching ----------------------------------------------------------------------------------------------------


element_result = st.none() | st.integers() | st.text(max_size=5) | st.dictionaries(st.text(max_size=3), st.integers())


@given(values=st.lists(element_result, min_size=1, max_size=40), k=st.integers(min_value=1, max_value=12))
def test_batching_does_not_change_the_aggregate(values: list[Any], k: int) -> None:
    # Given per-element results, and the same results as returned by tasks batched by k
    unbatched = by_plan(len(values))
    plan = by_plan(len(values), batch_size=k)
    task_results = batched(values, k) if k > 1 else values

    # When both are merged
    aggregate = merge("collect", plan, task_results)

    # Then the batched aggregate equals the unbatched one
    assert aggregate == merge("collect", unbatched, values)
    assert aggregate == values


def test_a_batched_result_may_wrap_its_list_in_results() -> None:
    # Given a batched task that returns {"results": [...]}
    plan = by_plan(3, batch_size=2)

    # When merged, Then the wrapped lists are spread per element
    assert merge("collect", plan, [{"results": [1, 2]}, {"results": [3]}]) == [1, 2, 3]


@pytest.mark.parametrize("result", [[1], [1, 2, 3], {"score": 1}, {"results": [1]}, "ab", 7])
def test_a_batched_task_with_a_result_of_the_wrong_shape_gives_nulls_and_a_warning(result: Any) -> None:
    # Given 4 elements in batches of 2, the first task's result is not a list of 2
    plan = by_plan(4, batch_size=2)

    # When the element results are computed
    merged = element_results(plan, [result, [3, 4]])

    # Then its elements are null, the others kept, and task 0 has a warning saying what was expected
    assert merged.values == [None, None, 3, 4]
    assert list(merged.warnings) == [0]
    assert "list of 2 results" in merged.warnings[0][0]


def test_the_short_last_batch_expects_fewer_results() -> None:
    # Given 3 elements in batches of 2: the last task has one element
    plan = by_plan(3, batch_size=2)

    # When its results are split
    # Then one result is right and two are the wrong shape
    assert split_task_result(plan, 1, ["c"]) == (["c"], [])
    values, warnings = split_task_result(plan, 1, ["c", "d"])
    assert values == [None]
    assert "list of 1 results" in warnings[0]


# --- result quality ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "quality", "warns"),
    [
        ({"score": 0.9}, 1.0, False),
        ({}, 1.0, False),
        (None, 0.0, True),
        ([1, 2], 0.5, True),
        ("done", 0.5, True),
        (3, 0.5, True),
        (True, 0.5, True),
    ],
)
def test_result_quality_is_full_only_for_a_json_object(result: Any, quality: float, warns: bool) -> None:
    # Given a task result, When its quality is judged
    value, warnings = result_quality(result)

    # Then an object is 1.0 with no warning; anything else is lower, with a warning
    assert value == quality
    assert bool(warnings) is warns


def test_result_quality_warning_names_the_json_type() -> None:
    # Given a list result, When judged, Then the warning says it is a list
    assert "list" in result_quality([1])[1][0]
