"""Tests of controller.jobs.merging: per-element results, undoing batch_size, the merge strategies, and aggregates."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.jobs.fanout import FanOut
from controller.jobs.kinds import aggregate, plan_job
from controller.jobs.merging import element_results, merge, result_quality, split_task_result
from controller.jobs.planning import Plan, chunk_bounds
from controller.jobs.spec import JobSpec, parse_job_spec


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


@pytest.mark.parametrize(("result", "quality"), [([1, 2], 1.0), ([], 1.0), ({"results": [1]}, 1.0), ("x", 0.5)])
def test_a_list_is_a_clean_result_for_a_batched_task(result: Any, quality: float) -> None:
    # Given a batched task's result, When judged, Then a list (or an object) is full quality, anything else lower
    value, warnings = result_quality(result, batched=True)
    assert value == quality
    assert bool(warnings) is (quality < 1.0)


# --- keyed -------------------------------------------------------------------------------------------------------


def test_keyed_by_values_uses_each_value_as_a_string() -> None:
    # Given a by fan-out over mixed scalars
    plan = Plan(payload={"m": ["small", 3, 0.5]}, fan_out=FanOut(by="m"))

    # When merged with keyed, Then each result sits under its element as a string
    assert merge("keyed", plan, [{"r": 1}, {"r": 2}, None]) == {"small": {"r": 1}, "3": {"r": 2}, "0.5": None}


def test_keyed_by_booleans_and_null_writes_them_as_json_like_item_keys() -> None:
    # Given a by fan-out over JSON true, false and null, and items keyed by the same values
    by = Plan(payload={"flag": [True, False, None]}, fan_out=FanOut(by="flag"))
    items = Plan(payload={}, fan_out=FanOut(items=({"k": True}, {"k": False}, {"k": None})))

    # When merged with keyed
    by_keys = list(merge("keyed", by, [1, 2, 3]))
    item_keys = list(merge("keyed", items, [1, 2, 3], {"key_field": "k"}))

    # Then both spell the keys as JSON does ("true", "false", "null"), not as Python does ("True", "None")
    assert item_keys == ["true", "false", "null"]
    assert by_keys == item_keys


def test_keyed_items_use_the_key_field_else_the_index() -> None:
    # Given items with a string name, a numeric name, and one without a name
    plan = Plan(payload={}, fan_out=FanOut(items=({"name": "a"}, {"name": 7}, {"other": 1})))

    # When merged with keyed by name
    merged = merge("keyed", plan, ["ra", "r7", "r2"], {"key_field": "name"})

    # Then strings are kept, other values are written as JSON, and an item without the field falls back to its index
    assert merged == {"a": "ra", "7": "r7", "2": "r2"}


def test_keyed_items_without_a_key_field_use_the_index() -> None:
    # Given items and no key_field, When merged with keyed, Then the keys are the indices
    plan = Plan(payload={}, fan_out=FanOut(items=({"name": "a"}, {"name": "b"})))
    assert merge("keyed", plan, [1, 2]) == {"0": 1, "1": 2}


def test_keyed_chunks_use_start_dash_end() -> None:
    # Given 10 cut into 3 chunks, When merged with keyed, Then each result sits under its half-open range
    plan = Plan(payload={}, fan_out=FanOut(chunks=3, range_field="n", total=10))
    assert merge("keyed", plan, [{"s": 4}, {"s": 3}, {"s": 3}]) == {"0-4": {"s": 4}, "4-7": {"s": 3}, "7-10": {"s": 3}}


def test_keyed_without_fan_out_has_one_key() -> None:
    # Given a job without fan-out, When merged with keyed, Then its result sits under "0"
    assert merge("keyed", Plan(payload={}), [{"ok": True}]) == {"0": {"ok": True}}


# --- weighted_avg ------------------------------------------------------------------------------------------------


def test_weighted_avg_without_weights_is_the_plain_mean_of_every_numeric_leaf() -> None:
    # Given three results with nested numbers, a string, and a leaf only two of them have
    plan = by_plan(3)
    results = [
        {"loss": 1.0, "m": {"auc": 0.5}, "name": "a", "extra": 10},
        {"loss": 2.0, "m": {"auc": 0.7}, "name": "b"},
        {"loss": 6.0, "m": {"auc": 0.9}, "name": "c", "extra": 20},
    ]

    # When merged with weighted_avg
    merged = merge("weighted_avg", plan, results)

    # Then each numeric leaf is averaged over the results that have it, nested as in the results, with the counts
    assert merged == {
        "loss": 3.0,
        "m": {"auc": pytest.approx(0.7)},
        "extra": 15.0,
        "total_weight": 3.0,
        "n": 3,
    }


def test_weighted_avg_weights_by_the_weight_field_and_sums_it() -> None:
    # Given results with their own sample counts, one without a count and one with a zero count
    plan = by_plan(4)
    results = [{"acc": 0.5, "n_samples": 10}, {"acc": 0.9, "n_samples": 30}, {"acc": 0.0}, {"acc": 0.1, "n_samples": 0}]

    # When merged weighted by n_samples
    merged = merge("weighted_avg", plan, results, {"weight_field": "n_samples"})

    # Then acc is weighted by the counts, the count itself is summed, and unweighted results are left out of n
    assert merged == {"acc": pytest.approx((0.5 * 10 + 0.9 * 30) / 40), "n_samples": 40.0, "total_weight": 40.0, "n": 2}


def test_weighted_avg_of_chunks_weights_by_chunk_size() -> None:
    # Given 10 cut into chunks of 4, 3 and 3, each reporting its own mean
    plan = Plan(payload={}, fan_out=FanOut(chunks=3, range_field="n", total=10))

    # When merged with weighted_avg
    merged = merge("weighted_avg", plan, [{"mean": 1.0}, {"mean": 2.0}, {"mean": 4.0}])

    # Then the chunk sizes are the weights
    assert merged == {"mean": pytest.approx((4 * 1 + 3 * 2 + 3 * 4) / 10), "total_weight": 10.0, "n": 3}


def test_weighted_avg_leaves_out_failed_and_non_object_results() -> None:
    # Given a failed task and a task that returned a number
    merged = merge("weighted_avg", by_plan(3), [{"x": 2}, None, 5])

    # Then only the object result counts
    assert merged == {"x": 2.0, "total_weight": 1.0, "n": 1}


def test_weighted_avg_of_nothing_is_empty() -> None:
    # Given only failed tasks, When merged, Then there are no leaves and zero weight
    assert merge("weighted_avg", by_plan(2), [None, None]) == {"total_weight": 0.0, "n": 0}


def test_weighted_avg_survives_a_leaf_that_is_a_number_in_one_result_and_an_object_in_another() -> None:
    # Given user results that disagree on the shape of "a"
    results = [{"a": 1, "b": 1}, {"a": {"x": 2}, "b": 3}]

    # When merged with weighted_avg, Then the merge does not raise, and the agreeing leaf is still averaged
    merged = merge("weighted_avg", by_plan(2), results)
    assert merged["b"] == 2.0
    assert merged["n"] == 2


@given(
    data=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=200),
    chunks_seed=st.integers(min_value=1, max_value=200),
)
def test_a_chunked_weighted_avg_of_chunk_means_is_the_overall_mean(data: list[float], chunks_seed: int) -> None:
    # Given values cut into chunks, each task reporting its chunk's mean (and size)
    total = len(data)
    chunks = 1 + (chunks_seed - 1) % total
    plan = Plan(payload={}, fan_out=FanOut(chunks=chunks, range_field="n", total=total))
    bounds = [chunk_bounds(total, chunks, i) for i in range(chunks)]
    results = [{"mean": math.fsum(data[s : s + n]) / n, "size": n} for s, n in bounds]

    # When merged weighted by chunk size, and by the size field on a plan without chunks
    by_chunk = merge("weighted_avg", plan, results)
    by_field = merge("weighted_avg", by_plan(chunks), results, {"weight_field": "size"})

    # Then both give the mean of all the values, the total weight is the range, and n the chunk count
    overall = math.fsum(data) / total
    assert by_chunk["mean"] == pytest.approx(overall, abs=1e-9)
    assert by_field["mean"] == pytest.approx(overall, abs=1e-9)
    assert (by_chunk["total_weight"], by_chunk["n"]) == (total, chunks)
    assert (by_field["total_weight"], by_field["size"], by_field["n"]) == (total, total, chunks)


# --- batch_size never changes an aggregate -----------------------------------------------------------------------


numeric_result = st.none() | st.fixed_dictionaries(
    {"v": st.integers(-100, 100)}, optional={"w": st.integers(1, 5), "m": st.fixed_dictionaries({"x": st.integers()})}
)


@st.composite
def plans(draw: Any) -> tuple[Plan, int]:
    """An unbatched plan of any shape, and a batch size to apply to it."""
    n = draw(st.integers(min_value=1, max_value=25))
    shape = draw(st.sampled_from(["by", "items", "chunks"]))
    if shape == "by":
        plan = Plan(payload={"v": draw(st.lists(st.integers(), min_size=n, max_size=n))}, fan_out=FanOut(by="v"))
    elif shape == "items":
        keys = st.fixed_dictionaries({}, optional={"name": st.text(max_size=3) | st.integers(0, 9)})
        plan = Plan(payload={}, fan_out=FanOut(items=tuple(draw(st.lists(keys, min_size=n, max_size=n)))))
    else:
        total = draw(st.integers(min_value=n, max_value=n * 5))
        plan = Plan(payload={}, fan_out=FanOut(chunks=n, range_field="n", total=total))
    return plan, draw(st.integers(min_value=2, max_value=8))


def rebatched(plan: Plan, k: int) -> Plan:
    assert plan.fan_out is not None
    return dataclasses.replace(plan, fan_out=dataclasses.replace(plan.fan_out, batch_size=k))


@given(case=plans(), data=st.data())
def test_batch_size_never_changes_a_structured_runner_aggregate(case: tuple[Plan, int], data: Any) -> None:
    # Given per-element results of any plan, and the same results as tasks batched by k return them
    plan, k = case
    values = data.draw(st.lists(numeric_result, min_size=plan.element_count, max_size=plan.element_count))
    strategy = data.draw(st.sampled_from(["collect", "keyed", "weighted_avg"]))
    options = data.draw(st.sampled_from([{}, {"key_field": "name"}, {"weight_field": "w"}]))

    # When both are merged with the same strategy
    unbatched = merge(strategy, plan, values, options)
    batched_merge = merge(strategy, rebatched(plan, k), batched(values, k), options)

    # Then the aggregates are equal
    assert batched_merge == unbatched


SWEEP_SPEC = parse_job_spec(
    {"project": "p", "type": "sweep", "parameters": {"a": [1, 2, 3], "b": [0, 1]}, "rank_by": "v"}
)
BENCH_SPEC = parse_job_spec(
    {"project": "p", "type": "benchmark", "candidates": {"x": {}, "y": {}, "z": {}}, "replicas": 2, "rank_by": "v"}
)
REDUCE_SPEC = parse_job_spec(
    {
        "project": "p",
        "type": "map_reduce",
        "payload": {"xs": [1, 2, 3, 4, 5, 6]},
        "split": {"by": "xs"},
        "reduce": {"operators": {"v": "mean", "w": "sum", "m": "concat", "c": "count"}},
    }
)
STRUCTURED_SPEC = parse_job_spec(
    {
        "project": "p",
        "payload": {"xs": [1, 2, 3, 4, 5, 6]},
        "fan_out": {"by": "xs"},
        "merge_strategy": "weighted_avg",
        "merge": {"weight_field": "w"},
    }
)


@pytest.mark.parametrize("spec", [SWEEP_SPEC, BENCH_SPEC, REDUCE_SPEC, STRUCTURED_SPEC], ids=lambda s: s.type)
@given(data=st.data())
def test_batch_size_never_changes_the_aggregate_of_any_job_type(spec: JobSpec, data: Any) -> None:
    # Given a six-element job of each type, per-element results, and the same results batched by k
    plan = plan_job(spec)
    k = data.draw(st.integers(min_value=2, max_value=7))
    values = data.draw(st.lists(numeric_result, min_size=plan.element_count, max_size=plan.element_count))

    # When both are aggregated
    unbatched = aggregate(spec, plan, values)
    batched_aggregate = aggregate(spec, rebatched(plan, k), batched(values, k))

    # Then value, aliases and warnings are all equal
    assert batched_aggregate == unbatched


# --- aggregate ---------------------------------------------------------------------------------------------------


def test_a_sweep_aggregate_ranks_the_grid_and_aliases_the_best() -> None:
    # Given a 3 x 2 sweep ranked by v, one result missing v and one task failed
    plan = plan_job(SWEEP_SPEC)
    results = [{"v": 1}, {"v": 5}, {}, {"v": 3}, None, {"v": 4}]

    # When aggregated
    agg = aggregate(SWEEP_SPEC, plan, results)

    # Then the best combination is aliased, the missing one ranks last with a warning
    assert agg.value["best"] == {"params": {"a": 1, "b": 1}, "result": {"v": 5}, "value": 5.0}
    assert agg.aliases == {"best_params": {"a": 1, "b": 1}, "best_value": 5.0}
    assert [row["task_index"] for row in agg.value["ranking"]] == [1, 5, 3, 0, 2, 4]
    assert len(agg.warnings) == 1 and "'v'" in agg.warnings[0]


def test_a_sweep_where_every_task_failed_has_no_aliases() -> None:
    # Given a sweep whose tasks all failed, When aggregated, Then there is no best and no alias
    agg = aggregate(SWEEP_SPEC, plan_job(SWEEP_SPEC), [None] * 6)
    assert (agg.value["best"], agg.aliases) == (None, {})


def test_a_benchmark_aggregate_summarises_candidates_and_aliases_the_best() -> None:
    # Given three candidates with two replicas each, candidate-major
    plan = plan_job(BENCH_SPEC)
    results = [{"v": 1}, {"v": 3}, {"v": 10}, {"v": 20}, {"v": 5}, None]

    # When aggregated
    agg = aggregate(BENCH_SPEC, plan, results)

    # Then each candidate has statistics over its own replicas, and the best mean is aliased
    assert agg.value["candidates"]["x"]["fields"]["v"]["mean"] == 2.0
    assert agg.value["candidates"]["z"]["n"] == 1
    assert [row["candidate"] for row in agg.value["ranking"]] == ["y", "z", "x"]
    assert agg.aliases == {"best_candidate": "y", "best_mean": 15.0}


def test_a_benchmark_where_no_candidate_has_the_ranked_value_has_no_best_alias() -> None:
    # Given a benchmark whose tasks all failed (so no candidate has a mean of v)
    agg = aggregate(BENCH_SPEC, plan_job(BENCH_SPEC), [None] * 6)

    # Then, as for a sweep without a best, no candidate is aliased as the best (the first one ranks first only
    # because every candidate ranks last)
    assert [row["mean"] for row in agg.value["ranking"]] == [None, None, None]
    assert agg.aliases == {}


def test_a_map_reduce_aggregate_reduces_the_maps_and_aliases_every_field() -> None:
    # Given six map results, one failed
    plan = plan_job(REDUCE_SPEC)
    results = [{"v": 1, "w": 2, "m": [1]}, {"v": 3, "w": 2, "m": 2}, None, {"v": 5}, {"v": 7}, {"v": 9}]

    # When aggregated, Then each operator's value is in the aggregate and aliased under its field
    agg = aggregate(REDUCE_SPEC, plan, results)
    assert agg.value == {"v": 5.0, "w": 4.0, "m": [1, 2], "c": 0}
    assert agg.aliases == agg.value


def test_a_weighted_avg_aggregate_aliases_n_and_total_weight() -> None:
    # Given a weighted_avg structured_runner job
    plan = plan_job(STRUCTURED_SPEC)
    results = [{"v": 1, "w": 1}, {"v": 4, "w": 2}, None, None, None, {"v": 0}]

    # When aggregated, Then n and total_weight are aliased
    agg = aggregate(STRUCTURED_SPEC, plan, results)
    assert agg.value == {"v": 3.0, "w": 3.0, "total_weight": 3.0, "n": 2}
    assert agg.aliases == {"n": 2, "total_weight": 3.0}


def test_a_collect_aggregate_has_no_aliases_and_carries_batch_warnings() -> None:
    # Given a collect job batched by 2 whose first task returned the wrong shape
    spec = parse_job_spec({"project": "p", "payload": {"xs": [1, 2, 3]}, "fan_out": {"by": "xs", "batch_size": 2}})

    # When aggregated
    agg = aggregate(spec, plan_job(spec), [{"oops": 1}, [3]])

    # Then the elements of the bad task are null and its warning is on the aggregate
    assert agg.value == [None, None, 3]
    assert agg.aliases == {}
    assert len(agg.warnings) == 1 and "list of 2 results" in agg.warnings[0]
