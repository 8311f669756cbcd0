"""Tests of controller.jobs.kinds: every registered job kind parses, stores, plans, merges and bills its own case."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from controller.core.errors import ValidationFailed
from controller.jobs.kinds import JOB_TYPES, KINDS, TYPE_FIELDS, JobKind, aggregate, kind_of, plan_job
from controller.jobs.spec import parse_job_spec, spec_from_json, spec_to_json

#: One small submission per registered kind: a kind added to KINDS without a case here fails the first test.
CASES: dict[str, dict[str, Any]] = {
    "structured_runner": {
        "payload": {"xs": [1, 2, 3]},
        "fan_out": {"by": "xs"},
        "merge_strategy": "weighted_avg",
        "merge": {"weight_field": "w"},
    },
    "sweep": {"type": "sweep", "parameters": {"lr": [0.1, 0.01], "depth": [2, 4]}, "rank_by": "v"},
    "map_reduce": {
        "type": "map_reduce",
        "payload": {"xs": [1, 2, 3, 4]},
        "split": {"by": "xs", "batch_size": 2},
        "reduce": {"operators": {"v": "sum"}},
    },
    "benchmark": {"type": "benchmark", "candidates": {"a": {"k": 1}, "b": {"k": 2}}, "replicas": 2, "rank_by": "v"},
}

#: Per kind: the tasks its case plans, results for them, and the aliases of the aggregate.
EXPECTED: dict[str, tuple[int, list[Any], dict[str, Any]]] = {
    "structured_runner": (3, [{"v": 1, "w": 1}, {"v": 4, "w": 2}, None], {"n": 2, "total_weight": 3.0}),
    "sweep": (
        4,
        [{"v": 1}, {"v": 7}, {"v": 3}, None],
        {"best_params": {"lr": 0.1, "depth": 4}, "best_value": 7.0},
    ),
    "map_reduce": (2, [[{"v": 1}, {"v": 2}], [{"v": 3}, {"v": 4}]], {"v": 10.0}),
    "benchmark": (4, [{"v": 1}, {"v": 3}, {"v": 5}, {"v": 7}], {"best_candidate": "b", "best_mean": 6.0}),
}


def spec_of_case(job_type: str) -> Any:
    return parse_job_spec({"project": "demo", **CASES[job_type]})


def test_every_registered_kind_has_a_case_and_is_a_job_kind_under_its_own_name() -> None:
    # Given the registry of kinds, Then each is a JobKind keyed by its name, with a case in this file
    assert set(CASES) == set(KINDS) == set(JOB_TYPES) == set(EXPECTED)
    assert all(isinstance(kind, JobKind) and kind.name == name for name, kind in KINDS.items())
    assert {name: kind.fields for name, kind in KINDS.items()} == TYPE_FIELDS


@pytest.mark.parametrize("job_type", list(CASES))
def test_every_kind_round_trips_through_its_stored_json(job_type: str) -> None:
    # Given a parsed spec of the kind
    spec = spec_of_case(job_type)

    # When stored as JSON text and read back
    stored = json.loads(json.dumps(spec_to_json(spec)))

    # Then it is the same spec, its stored form holds the kind's own fields, and it is stored the same way again
    assert spec_from_json(stored) == spec
    assert spec.type == job_type
    assert TYPE_FIELDS[job_type] <= set(stored)
    assert spec_to_json(spec_from_json(stored)) == stored


@pytest.mark.parametrize("job_type", list(CASES))
def test_every_kind_plans_and_merges_its_small_case(job_type: str) -> None:
    # Given a parsed spec of the kind and results for each task it plans
    spec = spec_of_case(job_type)
    tasks, results, aliases = EXPECTED[job_type]

    # When planned and merged
    plan = plan_job(spec)
    merged = aggregate(spec, plan, results)

    # Then it has the expected tasks and aliases, and the kind's own methods give the same
    assert plan.task_count == tasks
    assert merged.aliases == aliases
    assert kind_of(job_type).plan(spec) == plan
    assert kind_of(job_type).merge(spec, plan, results) == merged


@pytest.mark.parametrize("job_type", list(CASES))
def test_billable_tasks_are_the_planned_ones_without_a_reduce_command(job_type: str) -> None:
    # Given a spec of each kind without a reduce task, When billed, Then each planned task is billable once
    spec = spec_of_case(job_type)
    kind = kind_of(job_type)
    assert kind.reduce_command(spec) is None
    assert kind.billable_tasks(spec, plan_job(spec)) == plan_job(spec).task_count


def test_a_map_reduce_with_a_reduce_command_bills_and_feeds_one_more_task() -> None:
    # Given a map_reduce whose reduce is a command over four maps
    spec = parse_job_spec(
        {
            "project": "demo",
            **CASES["map_reduce"],
            "split": {"by": "xs"},
            "reduce": {"runner_command": ["python3", "reduce.py"]},
        }
    )
    kind, plan = kind_of("map_reduce"), plan_job(spec)

    # When billed and given the map results
    payload = kind.reduce_payload(spec, plan, [{"v": 1}, None, {"v": 3}, {"v": 4}])

    # Then the reduce task is billable and receives every map result and the payload
    assert kind.reduce_command(spec) == ("python3", "reduce.py")
    assert kind.billable_tasks(spec, plan) == plan.task_count + 1 == 5
    assert payload == {"map_results": [{"v": 1}, None, {"v": 3}, {"v": 4}], "payload": {"xs": [1, 2, 3, 4]}}


def test_a_kind_without_a_reduce_task_refuses_to_build_its_payload() -> None:
    # Given a sweep, When asked for a reduce payload, Then it says it has no reduce task
    spec = spec_of_case("sweep")
    with pytest.raises(NotImplementedError, match="sweep jobs have no reduce task"):
        kind_of("sweep").reduce_payload(spec, plan_job(spec), [])


def test_an_unknown_type_gets_the_error_it_always_got() -> None:
    # Given a submission of a type no kind is registered for
    expected = [{"field": "type", "message": "must be one of: structured_runner, sweep, map_reduce, benchmark"}]

    # When parsed, or looked up directly
    with pytest.raises(ValidationFailed) as parsed:
        parse_job_spec({"project": "demo", "type": "pipeline"})
    with pytest.raises(ValidationFailed) as looked_up:
        kind_of("pipeline")

    # Then both name the type field with the list of types, as before the kinds existed
    assert type(parsed.value) is type(looked_up.value) is ValidationFailed
    assert parsed.value.errors == looked_up.value.errors == expected


def test_a_field_of_another_kind_is_not_an_attribute_of_the_spec() -> None:
    # Given a structured_runner spec and a sweep spec
    runner, sweep = spec_of_case("structured_runner"), spec_of_case("sweep")

    # Then the sweep reads its own fields through the spec, and the runner has none of them
    assert sweep.parameters == {"lr": [0.1, 0.01], "depth": [2, 4]}
    with pytest.raises(AttributeError, match="structured_runner job spec has no field 'parameters'"):
        _ = runner.parameters


@pytest.mark.parametrize("job_type", list(CASES))
def test_a_spec_of_any_kind_copies_to_an_equal_spec(job_type: str) -> None:
    # Given a spec, When deep-copied (which probes attributes before __init__ runs), Then the copy is equal
    spec = spec_of_case(job_type)
    assert copy.deepcopy(spec) == spec
