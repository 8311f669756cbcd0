"""Recipe submissions: recipe and operation lookup, schema errors by field, capability routing (pure)."""

from __future__ import annotations

import time

import pytest

from broker.messages import AgentHeartbeat, Capabilities
from controller.agents.roster import AgentRoster
from controller.core.errors import NoCapableWorkers, ValidationFailed
from controller.jobs.kinds import plan_job
from controller.jobs.spec import parse_job_spec
from controller.recipes.submit import check_recipe_job, find_recipe, payload_errors, recipe_queue_key
from recipes import Recipe
from recipes.packing.baselines import GRID_BASELINE

GRID = list(GRID_BASELINE)
GATED = Recipe(
    name="gated",
    description="needs tools for one operation",
    operations={"plain": "runs anywhere", "special": "needs sbf"},
    payload_schema={"type": "object", "properties": {"operation": {"enum": ["plain", "special"]}}},
    run=lambda payload, ctx: {},
    operation_requires={"special": ("sbf",)},
)


def _agents(*capabilities: Capabilities) -> AgentRoster:
    roster = AgentRoster(ttl_s=60)
    for i, caps in enumerate(capabilities):
        roster.update(AgentHeartbeat(agent_id=f"a{i}", capabilities=caps), now=time.monotonic())
    return roster


def test_an_unknown_recipe_is_refused_naming_the_recipes_that_exist():
    with pytest.raises(ValidationFailed) as caught:
        find_recipe("alchemy")
    assert caught.value.errors[0]["field"] == "recipe" and "packing" in caught.value.errors[0]["message"]


def test_an_unknown_operation_names_the_operations_offered():
    errors = payload_errors(find_recipe("packing"), {"operation": "warp"})
    assert errors[0]["field"] == "payload.operation"
    assert "eval_batch" in errors[0]["message"]


def test_schema_errors_name_the_payload_field():
    errors = payload_errors(find_recipe("packing"), {"operation": "eval", "candidate": [1, 2]})
    assert [e["field"] for e in errors] == ["payload.candidate"]
    assert payload_errors(find_recipe("packing"), {"operation": "eval", "candidate": GRID}) == []


def test_a_fan_out_that_breaks_the_schema_is_caught_at_submit():
    # Given eval_batch fanned out by candidates without batching: each task would get one bare candidate
    body = {"payload": {"operation": "eval_batch", "candidates": [GRID, GRID]}, "fan_out": {"by": "candidates"}}
    spec = parse_job_spec(body, recipe="packing")
    with pytest.raises(ValidationFailed) as caught:
        check_recipe_job(find_recipe("packing"), plan_job(spec))
    assert caught.value.errors[0]["field"].startswith("payload.candidates")
    # When batched, each task gets a list of candidates and the job is accepted
    batched = parse_job_spec({**body, "fan_out": {"by": "candidates", "batch_size": 2}}, recipe="packing")
    assert check_recipe_job(find_recipe("packing"), plan_job(batched)) == "eval_batch"


def test_tasks_of_gated_operations_go_to_agents_with_the_tools():
    plain = Capabilities(recipes=("gated",), runtimes=("process", "recipe"))
    tooled = Capabilities(recipes=("gated",), runtimes=("process", "recipe"), features=("sbf",))
    assert recipe_queue_key(GATED, "plain", _agents(plain)) == "gated"
    assert recipe_queue_key(GATED, "special", _agents(plain, tooled)) == "gated.sbf"
    with pytest.raises(NoCapableWorkers) as caught:
        recipe_queue_key(GATED, "special", _agents(plain))
    assert caught.value.details["needs"] == ["sbf"]
    assert "sbf" in caught.value.recommended_action
    with pytest.raises(NoCapableWorkers):
        recipe_queue_key(GATED, "plain", _agents(Capabilities()))


def test_an_agent_consumes_the_gated_queues_only_with_the_tools():
    from recipes import queue_keys

    assert queue_keys(GATED, ()) == [()]
    assert queue_keys(GATED, ("sbf", "echidna")) == [(), ("sbf",)]


def test_a_field_the_operation_does_not_take_is_named_in_plain_words():
    errors = payload_errors(find_recipe("packing"), {"operation": "eval", "candidate": GRID, "seed": 3})
    assert errors == [{"field": "payload.seed", "message": errors[0]["message"]}]
    assert "not accepted by the 'eval' operation" in errors[0]["message"]
