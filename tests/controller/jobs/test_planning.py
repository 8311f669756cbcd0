"""Tests of controller.jobs.planning: how a validated job spec becomes tasks, with and without fan-out and batching."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.jobs.fanout import FanOut
from controller.jobs.kinds import plan_job
from controller.jobs.planning import Plan, chunk_bounds
from controller.jobs.spec import parse_job_spec


def spec_of(payload: dict[str, Any], fan_out: dict[str, Any] | None = None) -> Plan:
    """The plan of a real submission, validated by parse_job_spec."""
    body: dict[str, Any] = {"project": "demo", "payload": payload}
    if fan_out is not None:
        body["fan_out"] = fan_out
    return plan_job(parse_job_spec(body))


# --- no fan-out ------------------------------------------------------------------------------------------------


def test_a_job_without_fan_out_has_one_task_with_the_payload_unchanged() -> None:
    # Given a job without fan-out
    payload = {"seed": 7, "models": ["a", "b"]}

    # When it is planned
    plan = spec_of(payload)

    # Then there is one task of one element, and it receives the submitted payload
    assert (plan.element_count, plan.task_count, plan.batch_size, plan.batched) == (1, 1, 1, False)
    assert plan.elements(0) == range(0, 1)
    assert plan.task_payload(0) == payload
    assert plan.element_key(0) == "0"


# --- by ----------------------------------------------------------------------------------------------------------


def test_by_gives_one_task_per_list_element_with_the_field_replaced() -> None:
    # Given a payload whose `models` list is fanned out
    plan = spec_of({"models": ["small", "large", "xl"], "seed": 1}, {"by": "models"})

    # When the task payloads are computed
    payloads = [plan.task_payload(i) for i in range(plan.task_count)]

    # Then each task gets one element in place of the list, and the other fields as submitted
    assert plan.task_count == 3
    assert payloads == [
        {"models": "small", "seed": 1},
        {"models": "large", "seed": 1},
        {"models": "xl", "seed": 1},
    ]


def test_by_does_not_change_the_submitted_payload() -> None:
    # Given a by fan-out
    payload = {"models": ["a", "b"]}
    plan = spec_of(payload, {"by": "models"})

    # When a task payload is computed
    plan.task_payload(1)

    # Then the job's own payload still holds the full list
    assert payload == {"models": ["a", "b"]}


def test_element_key_of_a_by_fan_out_is_the_element_as_a_string() -> None:
    # Given a by fan-out over numbers
    plan = spec_of({"lr": [0.1, 3, "x"]}, {"by": "lr"})

    # When the element keys are read, Then they are the values as strings
    assert [plan.element_key(i) for i in range(3)] == ["0.1", "3", "x"]


# --- items -------------------------------------------------------------------------------------------------------


def test_items_merge_each_item_over_the_payload() -> None:
    # Given items, one of which overrides a payload field
    plan = spec_of({"seed": 1, "depth": 3}, {"items": [{"seed": 2}, {"width": 8}]})

    # When the task payloads are computed
    payloads = [plan.task_payload(i) for i in range(plan.task_count)]

    # Then each is {**payload, **item}
    assert payloads == [{"seed": 2, "depth": 3}, {"seed": 1, "depth": 3, "width": 8}]


def test_element_key_of_items_is_the_index() -> None:
    # Given an items fan-out
    plan = spec_of({}, {"items": [{"a": 1}, {"a": 2}, {"a": 3}]})

    # When the keys are read, Then they are the indices as strings
    assert [plan.element_key(i) for i in range(3)] == ["0", "1", "2"]


# --- chunks ------------------------------------------------------------------------------------------------------


def test_chunks_cut_the_range_and_add_chunk_fields() -> None:
    # Given 10 seeds cut into 3 chunks
    plan = spec_of({"model": "m"}, {"chunks": 3, "range_field": "n_seeds", "total": 10})

    # When the task payloads are computed
    payloads = [plan.task_payload(i) for i in range(plan.task_count)]

    # Then the chunk sizes are 4, 3, 3 with their starts, indices and count
    assert payloads == [
        {"model": "m", "n_seeds": 4, "chunk_start": 0, "chunk_index": 0, "chunk_count": 3},
        {"model": "m", "n_seeds": 3, "chunk_start": 4, "chunk_index": 1, "chunk_count": 3},
        {"model": "m", "n_seeds": 3, "chunk_start": 7, "chunk_index": 2, "chunk_count": 3},
    ]


def test_element_key_of_a_chunk_is_start_dash_end() -> None:
    # Given 10 cut into 3 chunks
    plan = spec_of({}, {"chunks": 3, "range_field": "n", "total": 10})

    # When the keys are read, Then they name each chunk's half-open range
    assert [plan.element_key(i) for i in range(3)] == ["0-4", "4-7", "7-10"]


@given(total=st.integers(min_value=1, max_value=10_000), data=st.data())
def test_chunks_cover_the_range_exactly_once_with_sizes_differing_by_at_most_one(total: int, data: Any) -> None:
    # Given any total and any number of chunks up to it
    chunks = data.draw(st.integers(min_value=1, max_value=min(total, 500)))

    # When every chunk's bounds are computed
    bounds = [chunk_bounds(total, chunks, i) for i in range(chunks)]

    # Then they are contiguous from 0 to total, none empty, and their sizes differ by at most one
    assert bounds[0][0] == 0
    for (start, size), (next_start, _) in zip(bounds, bounds[1:], strict=False):
        assert start + size == next_start
    assert bounds[-1][0] + bounds[-1][1] == total
    sizes = [size for _, size in bounds]
    assert min(sizes) >= 1
    assert max(sizes) - min(sizes) <= 1


# --- batch_size --------------------------------------------------------------------------------------------------


def test_batching_a_by_fan_out_turns_the_field_into_a_list_of_consecutive_elements() -> None:
    # Given 5 models in batches of 2
    plan = spec_of({"models": ["a", "b", "c", "d", "e"], "seed": 0}, {"by": "models", "batch_size": 2})

    # When the task payloads are computed
    payloads = [plan.task_payload(i) for i in range(plan.task_count)]

    # Then there are 3 tasks whose `models` are lists of up to 2 consecutive elements
    assert plan.batched
    assert payloads == [
        {"models": ["a", "b"], "seed": 0},
        {"models": ["c", "d"], "seed": 0},
        {"models": ["e"], "seed": 0},
    ]


def test_batching_items_puts_the_items_under_batch() -> None:
    # Given 3 items in batches of 2
    plan = spec_of({"seed": 1}, {"items": [{"x": 1}, {"x": 2}, {"x": 3}], "batch_size": 2})

    # When the task payloads are computed
    payloads = [plan.task_payload(i) for i in range(plan.task_count)]

    # Then each task gets the payload plus `batch`, a list of its items
    assert payloads == [{"seed": 1, "batch": [{"x": 1}, {"x": 2}]}, {"seed": 1, "batch": [{"x": 3}]}]


def test_batching_chunks_puts_the_chunk_fields_under_batch() -> None:
    # Given 3 chunks of 0..9 in batches of 2
    plan = spec_of({}, {"chunks": 3, "range_field": "n", "total": 9, "batch_size": 2})

    # When the task payloads are computed
    payloads = [plan.task_payload(i) for i in range(plan.task_count)]

    # Then each batch entry describes one chunk
    assert payloads == [
        {
            "batch": [
                {"n": 3, "chunk_start": 0, "chunk_index": 0, "chunk_count": 3},
                {"n": 3, "chunk_start": 3, "chunk_index": 1, "chunk_count": 3},
            ]
        },
        {"batch": [{"n": 3, "chunk_start": 6, "chunk_index": 2, "chunk_count": 3}]},
    ]


def test_a_batch_size_larger_than_the_elements_gives_one_task() -> None:
    # Given 3 elements with batch_size 10
    plan = spec_of({"v": [1, 2, 3]}, {"by": "v", "batch_size": 10})

    # When planned, Then one task carries all of them
    assert plan.task_count == 1
    assert plan.task_payload(0) == {"v": [1, 2, 3]}


@given(n=st.integers(min_value=1, max_value=2_000), k=st.integers(min_value=1, max_value=300))
def test_batched_tasks_partition_the_elements_in_order(n: int, k: int) -> None:
    # Given n items in batches of k
    plan = Plan(payload={}, fan_out=FanOut(items=tuple({"i": i} for i in range(n)), batch_size=k))

    # When every task's elements are listed
    covered = [e for task in range(plan.task_count) for e in plan.elements(task)]

    # Then there are ceil(n/k) tasks, none empty or over k, covering 0..n-1 once, in order
    assert plan.task_count == -(-n // k)
    assert covered == list(range(n))
    assert all(1 <= len(plan.elements(t)) <= k for t in range(plan.task_count))


@given(values=st.lists(st.integers(), min_size=1, max_size=60), k=st.integers(min_value=2, max_value=10))
def test_batched_by_payloads_concatenate_to_the_original_list(values: list[int], k: int) -> None:
    # Given a by fan-out over any list, batched by k
    plan = Plan(payload={"v": values}, fan_out=FanOut(by="v", batch_size=k))

    # When the batched lists of every task are joined
    joined = [x for t in range(plan.task_count) for x in plan.task_payload(t)["v"]]

    # Then they give back the list, element for element
    assert joined == values


@pytest.mark.parametrize(
    ("fan_out", "payload", "keys"),
    [
        (FanOut(by="m", batch_size=2), {"m": ["x", "y", "z"]}, ["x", "y", "z"]),
        (FanOut(items=({}, {}, {}), batch_size=2), {}, ["0", "1", "2"]),
        (FanOut(chunks=3, range_field="n", total=7, batch_size=2), {}, ["0-3", "3-5", "5-7"]),
    ],
)
def test_element_keys_do_not_depend_on_batching(fan_out: FanOut, payload: dict[str, Any], keys: list[str]) -> None:
    # Given a batched plan
    plan = Plan(payload=payload, fan_out=fan_out)

    # When the keys of every element are read, Then they are those of the unbatched elements
    assert [plan.element_key(e) for e in range(plan.element_count)] == keys


# --- job types ---------------------------------------------------------------------------------------------------


def test_a_sweep_is_one_task_per_combination_over_the_fixed_payload() -> None:
    # Given a 2 x 2 sweep whose grid overrides a fixed field
    spec = parse_job_spec(
        {
            "project": "demo",
            "type": "sweep",
            "parameters": {"lr": [0.1, 0.01], "depth": [2, 4]},
            "fixed_payload": {"epochs": 3, "depth": 1},
        }
    )

    # When planned
    plan = plan_job(spec)

    # Then each task gets {**fixed_payload, **combination}, first parameter slowest
    assert plan.task_count == 4
    assert [plan.task_payload(i) for i in range(4)] == [
        {"epochs": 3, "depth": 2, "lr": 0.1},
        {"epochs": 3, "depth": 4, "lr": 0.1},
        {"epochs": 3, "depth": 2, "lr": 0.01},
        {"epochs": 3, "depth": 4, "lr": 0.01},
    ]


def test_a_benchmark_is_candidate_major_with_a_replica_number_over_the_shared_payload() -> None:
    # Given two candidates, one overriding a shared field, with three replicas
    spec = parse_job_spec(
        {
            "project": "demo",
            "type": "benchmark",
            "candidates": [{"name": "fast", "payload": {"algo": "f", "n": 5}}, {"name": "slow", "payload": {}}],
            "shared_payload": {"n": 100},
            "replicas": 3,
        }
    )

    # When planned
    plan = plan_job(spec)

    # Then there are candidates x replicas tasks, each {**shared_payload, **candidate, "replica": r}
    assert plan.task_count == 6
    assert [plan.task_payload(i) for i in range(6)] == [
        {"n": 5, "algo": "f", "replica": 0},
        {"n": 5, "algo": "f", "replica": 1},
        {"n": 5, "algo": "f", "replica": 2},
        {"n": 100, "replica": 0},
        {"n": 100, "replica": 1},
        {"n": 100, "replica": 2},
    ]


def test_a_map_reduce_fans_out_its_split_with_its_batch_size() -> None:
    # Given a map_reduce split by xs in batches of 2
    spec = parse_job_spec(
        {
            "project": "demo",
            "type": "map_reduce",
            "payload": {"xs": [1, 2, 3], "k": 0},
            "split": {"by": "xs", "batch_size": 2},
            "reduce": {"operators": {"y": "sum"}},
        }
    )

    # When planned, Then the split is the fan-out
    plan = plan_job(spec)
    assert plan.fan_out == FanOut(by="xs", batch_size=2)
    assert [plan.task_payload(i) for i in range(plan.task_count)] == [{"xs": [1, 2], "k": 0}, {"xs": [3], "k": 0}]


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=4),
    replicas=st.integers(min_value=1, max_value=5),
)
def test_typed_job_plans_have_one_element_per_combination_or_candidate_replica(sizes: list[int], replicas: int) -> None:
    # Given a sweep grid of any shape, and a benchmark with as many candidates as the grid has parameters
    parameters = {f"p{i}": list(range(n)) for i, n in enumerate(sizes)}
    sweep = plan_job(parse_job_spec({"project": "d", "type": "sweep", "parameters": parameters}))
    candidates = {f"c{i}": {"i": i} for i in range(len(sizes))}
    bench = plan_job(
        parse_job_spec({"project": "d", "type": "benchmark", "candidates": candidates, "replicas": replicas})
    )

    # When planned, Then the sweep has one unbatched task per combination, the benchmark one per (candidate, replica)
    combos = 1
    for n in sizes:
        combos *= n
    assert (sweep.task_count, sweep.batched) == (combos, False)
    assert (bench.task_count, bench.batched) == (len(sizes) * replicas, False)
    assert [bench.task_payload(t)["i"] for t in range(bench.task_count)] == [
        i for i in range(len(sizes)) for _ in range(replicas)
    ]
    assert [bench.task_payload(t)["replica"] for t in range(bench.task_count)] == list(range(replicas)) * len(sizes)
