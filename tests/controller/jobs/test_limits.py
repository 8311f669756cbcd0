"""Limits of one submission (controller.jobs.limits, controller.jobs.sizes): just under passes, just over is a 422
naming the field, checked before anything is planned or stored."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from broker.messages import AgentHeartbeat, Capabilities
from controller.agents.roster import ROSTER
from controller.core.errors import ValidationFailed
from controller.jobs import limits
from controller.jobs.kinds import plan_job
from controller.jobs.kinds.benchmark import MAX_REPLICAS
from controller.jobs.kinds.sweep import MAX_SWEEP_COMBINATIONS
from controller.jobs.limits import (
    MAX_BATCH_SIZE,
    MAX_BENCHMARK_RUNS,
    MAX_COMMAND_ARG_CHARS,
    MAX_COMMAND_ARGS,
    MAX_DEPENDS_ON,
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_INT,
    MAX_JOB_PAYLOAD_BYTES,
    MAX_TASK_PAYLOAD_BYTES,
    MIN_INT,
    json_size,
    value_problem,
)
from controller.jobs.models import Job, Task
from controller.jobs.sizes import planned_bytes
from controller.jobs.spec import parse_job_spec
from controller.jobs.submit import MAX_IDEMPOTENCY_KEY_CHARS
from recipes.packing.baselines import GRID_BASELINE
from tests.controller.api_support import Api


def job(**fields: Any) -> dict[str, Any]:
    return {"project": "p", **fields}


def nested(depth: int) -> dict[str, Any]:
    """A JSON object `depth` levels deep (`{}` is one level), built without recursion."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def refused(body: dict[str, Any], recipe: str | None = None) -> dict[str, str]:
    """The fields a submission is refused for, each with its message."""
    with pytest.raises(ValidationFailed) as caught:
        parse_job_spec(body, recipe=recipe)
    return {e["field"]: e["message"] for e in caught.value.errors}


def candidates(n: int) -> dict[str, dict[str, int]]:
    return {f"c{i}": {"i": i} for i in range(n)}


# (field, a body just under a limit, the same body just over it)
LIMITS = [
    pytest.param("payload", job(payload=nested(MAX_DEPTH)), job(payload=nested(MAX_DEPTH + 1)), id="payload-depth"),
    pytest.param("meta", job(meta=nested(MAX_DEPTH)), job(meta=nested(MAX_DEPTH + 1)), id="meta-depth"),
    pytest.param(
        "fan_out",
        job(fan_out={"items": [nested(MAX_DEPTH - 2)]}),
        job(fan_out={"items": [nested(MAX_DEPTH - 1)]}),
        id="items-depth",
    ),
    pytest.param("payload", job(payload={"n": MAX_INT}), job(payload={"n": MAX_INT + 1}), id="int-max"),
    pytest.param("payload", job(payload={"n": [MIN_INT]}), job(payload={"n": [MIN_INT - 1]}), id="int-min"),
    pytest.param(
        "fan_out.batch_size",
        job(payload={"xs": [1, 2]}, fan_out={"by": "xs", "batch_size": MAX_BATCH_SIZE}),
        job(payload={"xs": [1, 2]}, fan_out={"by": "xs", "batch_size": MAX_BATCH_SIZE + 1}),
        id="batch-size",
    ),
    pytest.param(
        "split.batch_size",
        job(
            type="map_reduce",
            split={"chunks": 2, "range_field": "n", "total": 4, "batch_size": MAX_BATCH_SIZE},
            reduce={"operators": {"n": "sum"}},
        ),
        job(
            type="map_reduce",
            split={"chunks": 2, "range_field": "n", "total": 4, "batch_size": MAX_BATCH_SIZE + 1},
            reduce={"operators": {"n": "sum"}},
        ),
        id="split-batch-size",
    ),
    pytest.param(
        "fan_out.chunks",
        job(fan_out={"chunks": MAX_ELEMENTS, "range_field": "n", "total": MAX_ELEMENTS, "batch_size": 1000}),
        job(fan_out={"chunks": MAX_ELEMENTS + 1, "range_field": "n", "total": MAX_ELEMENTS + 1, "batch_size": 1000}),
        id="chunks",
    ),
    pytest.param(
        "parameters",
        job(type="sweep", parameters={"a": list(range(100)), "b": list(range(100))}),
        job(type="sweep", parameters={"a": list(range(10_001))}),
        id="sweep-combinations",
    ),
    pytest.param(
        "candidates",
        job(type="benchmark", candidates=candidates(100), replicas=MAX_BENCHMARK_RUNS // 100),
        job(type="benchmark", candidates=candidates(101), replicas=MAX_BENCHMARK_RUNS // 100),
        id="benchmark-runs",
    ),
    pytest.param(
        "runner_command[1]",
        job(runner_command=["python3", "run.py"]),
        job(runner_command=["python3", "run.py\x00"]),
        id="command-nul",
    ),
    pytest.param(
        "runner_command[1]",
        job(runner_command=["python3", "x" * MAX_COMMAND_ARG_CHARS]),
        job(runner_command=["python3", "x" * (MAX_COMMAND_ARG_CHARS + 1)]),
        id="command-arg-length",
    ),
    pytest.param(
        "runner_command",
        job(runner_command=["a"] * MAX_COMMAND_ARGS),
        job(runner_command=["a"] * (MAX_COMMAND_ARGS + 1)),
        id="command-args",
    ),
    pytest.param(
        "reduce.runner_command[0]",
        job(type="map_reduce", payload={"xs": [1]}, split={"by": "xs"}, reduce={"runner_command": ["r.py"]}),
        job(type="map_reduce", payload={"xs": [1]}, split={"by": "xs"}, reduce={"runner_command": ["r.py\x00"]}),
        id="reduce-command-nul",
    ),
    pytest.param("project", job(project="p" * 63), job(project="p" * 64), id="project-length"),
    pytest.param("project", job(project="my-proj_2"), job(project="My proj"), id="project-charset"),
    pytest.param(
        "candidates",
        job(type="benchmark", candidates={"numpy-v2.1": {}}),
        job(type="benchmark", candidates={"numpy v2": {}}),
        id="candidate-charset",
    ),
    pytest.param(
        "parameters",
        job(type="sweep", parameters={"a" * 128: [1]}),
        job(type="sweep", parameters={"a" * 129: [1]}),
        id="parameter-length",
    ),
    pytest.param(
        "fan_out.range_field",
        job(fan_out={"chunks": 2, "range_field": "model.n", "total": 4}),
        job(fan_out={"chunks": 2, "range_field": "n\n", "total": 4}),
        id="range-field-charset",
    ),
    pytest.param(
        "depends_on",
        job(depends_on=[f"job_{i}" for i in range(MAX_DEPENDS_ON)]),
        job(depends_on=[f"job_{i}" for i in range(MAX_DEPENDS_ON + 1)]),
        id="depends-on",
    ),
]


@pytest.mark.parametrize(("field", "under", "over"), LIMITS)
def test_a_submission_just_under_a_limit_passes_and_just_over_is_refused_naming_the_field(
    field: str, under: dict[str, Any], over: dict[str, Any]
) -> None:
    # Given a submission just under the limit, When it is parsed, Then it is accepted and can be planned
    assert plan_job(parse_job_spec(under)).task_count >= 1

    # When the same submission goes just over the limit, Then it is refused naming the field and only that field
    errors = refused(over)
    assert list(errors) == [field], errors


def test_a_payload_nested_thousands_of_levels_deep_is_measured_without_recursion() -> None:
    # Given a payload far deeper than the interpreter's recursion limit
    deep: list[Any] = []
    for _ in range(50_000):
        deep = [deep]

    # When it is submitted, Then it is refused as too deep, naming the payload, without a RecursionError
    errors = refused(job(payload={"x": deep}))
    assert list(errors) == ["payload"] and f"deeper than {MAX_DEPTH} levels" in errors["payload"]
    assert value_problem(deep) is not None


def test_a_fan_out_over_the_element_limit_is_refused_for_every_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an element limit of 3
    monkeypatch.setattr(limits, "MAX_ELEMENTS", 3)

    # When `by`, `items` and `split` fan-outs of 3 and of 4 elements are submitted
    # Then 3 pass and 4 are refused naming the fan-out shape
    parse_job_spec(job(payload={"xs": [1, 2, 3]}, fan_out={"by": "xs"}))
    assert list(refused(job(payload={"xs": [1, 2, 3, 4]}, fan_out={"by": "xs"}))) == ["fan_out.by"]
    parse_job_spec(job(fan_out={"items": [{}] * 3}))
    assert list(refused(job(fan_out={"items": [{}] * 4}))) == ["fan_out.items"]
    split = {"type": "map_reduce", "reduce": {"operators": {"n": "sum"}}}
    assert list(refused(job(**split, split={"items": [{}] * 4}))) == ["split.items"]


def test_a_task_payload_over_the_byte_limit_names_the_shared_payload() -> None:
    # Given a payload of exactly the per-task limit, and one a byte larger (no fan-out: one task gets it all)
    under = job(payload={"s": "x" * (MAX_TASK_PAYLOAD_BYTES - len('{"s":""}'))})
    over = job(payload={"s": "x" * (MAX_TASK_PAYLOAD_BYTES - len('{"s":""}') + 1)})

    # When each is submitted, Then the first passes and the second is refused naming payload, saying what to do
    assert json_size(parse_job_spec(under).payload) == MAX_TASK_PAYLOAD_BYTES
    errors = refused(over)
    assert list(errors) == ["payload"] and "_artifacts.download" in errors["payload"]


def test_a_batch_over_the_task_byte_limit_names_the_fan_out_and_a_smaller_batch_passes() -> None:
    # Given 1000 items of 8 KiB each: batches of 1000 make 8 MiB tasks, batches of 100 make 0.8 MiB ones
    items = [{"s": "x" * 8192}] * 1000

    # When both batchings are submitted
    errors = refused(job(fan_out={"items": items, "batch_size": 1000}))
    spec = parse_job_spec(job(fan_out={"items": items, "batch_size": 100}))

    # Then the large batches are refused naming fan_out with the way out, the small ones are accepted
    assert list(errors) == ["fan_out"] and "smaller batch_size" in errors["fan_out"]
    assert plan_job(spec).task_count == 10


def test_a_shared_payload_copied_into_too_many_tasks_is_refused_on_the_total() -> None:
    # Given 128 chunk tasks whose shared payload makes the total exactly the job limit, then one byte more each
    chunk = json_size({"n": 128, "chunk_start": 128, "chunk_index": 128, "chunk_count": 128})
    size = MAX_JOB_PAYLOAD_BYTES // 128 - limits.TASK_OVERHEAD_BYTES - chunk - len('{"s":""}')
    fan_out = {"chunks": 128, "range_field": "n", "total": 128}

    # When each is submitted
    spec = parse_job_spec(job(payload={"s": "x" * size}, fan_out=fan_out))
    errors = refused(job(payload={"s": "x" * (size + 1)}, fan_out=fan_out))

    # Then the first is accepted at exactly the limit, the second is refused naming fan_out with the way out
    assert planned_bytes(plan_job(spec)).total == MAX_JOB_PAYLOAD_BYTES
    assert list(errors) == ["fan_out"] and "fewer, larger batches" in errors["fan_out"]


SHAPES = [
    job(payload={"k": "v"}),
    job(payload={"k": "v", "xs": [1, "two", {"three": 3}, [4], None]}, fan_out={"by": "xs", "batch_size": 2}),
    job(payload={"k": "v", "xs": ["a", "bb", "ccc"]}, fan_out={"by": "xs"}),
    job(payload={"k": 1}, fan_out={"items": [{"a": 1}, {"b": "é" * 10}, {"c": [1, 2]}], "batch_size": 2}),
    job(payload={"k": 1}, fan_out={"items": [{"a": 1}, {"b": 2}]}),
    job(payload={}, fan_out={"chunks": 7, "range_field": "n", "total": 1000, "batch_size": 3}),
    job(type="sweep", parameters={"a": [1, 2, 3], "b": ["x", "y"]}, fixed_payload={"f": "z" * 50}),
    job(type="benchmark", candidates={"p": {"x": 1}, "q": {"y": [1, 2]}}, replicas=3, shared_payload={"n": 5}),
]


@pytest.mark.parametrize("body", SHAPES)
def test_the_size_bounds_are_never_below_the_real_task_payloads(body: dict[str, Any]) -> None:
    # Given a plan of any shape
    plan = plan_job(parse_job_spec(body))

    # When its task payloads are built and measured
    sizes = [json_size(plan.task_payload(i)) for i in range(plan.task_count)]

    # Then the bounds computed without building them hold
    bound = planned_bytes(plan)
    assert max(sizes) <= bound.largest_task and sum(sizes) <= bound.total


# -- through the route: a 422 naming the field, and nothing stored ---------------------------------------------------

PACKING = {"operation": "eval_batch", "candidates": [list(GRID_BASELINE)] * 3}


async def member(api: Api) -> str:
    """A funded member's token, with a live agent offering the packing recipe."""
    beat = AgentHeartbeat(agent_id="a1", capabilities=Capabilities(recipes=("packing",)))
    api.app[ROSTER].update(beat, now=time.monotonic())
    return await api.token(credit_micro=10_000_000)


ROUTE_CASES = [
    pytest.param(
        "/api/v1/recipes/packing/jobs",
        {"payload": PACKING, "fan_out": {"by": "candidates", "batch_size": MAX_BATCH_SIZE}},
        {"payload": PACKING, "fan_out": {"by": "candidates", "batch_size": MAX_BATCH_SIZE + 1}},
        "fan_out.batch_size",
        id="batch-size",
    ),
    pytest.param(
        "/api/v1/jobs",
        {"recipe": "packing", "payload": PACKING},
        {"recipe": "packing", "payload": {**PACKING, "extra": nested(MAX_DEPTH)}},
        "payload",
        id="depth",
    ),
    pytest.param(
        "/api/v1/jobs",
        {"recipe": "packing", "payload": PACKING},
        {"recipe": "packing", "payload": {**PACKING, "seed": MAX_INT + 1}},
        "payload",
        id="int-range",
    ),
]


@pytest.mark.parametrize(("path", "under", "over", "field"), ROUTE_CASES)
async def test_the_route_refuses_a_submission_over_a_limit_and_stores_nothing(
    api: Api, path: str, under: dict[str, Any], over: dict[str, Any], field: str
) -> None:
    # Given a funded member and a live agent offering the recipe
    token = await member(api)

    # When a submission over the limit is posted
    status, body, _ = await api.call("POST", path, token, json=over)

    # Then it is a 422 naming the field, and no job or task was stored
    assert status == 422, body
    assert [f["field"] for f in body["error"]["details"]["fields"]] == [field]
    assert (Job.select().count(), Task.select().count()) == (0, 0)

    # When the same submission just under the limit is posted, Then it is accepted
    status, body, _ = await api.call("POST", path, token, json=under)
    assert status == 201, body


async def test_the_route_refuses_a_nul_in_runner_command_before_looking_up_the_project(api: Api) -> None:
    # Given a member
    token = await member(api)

    # When a job whose runner_command holds a NUL is posted (the project does not even exist)
    body = {"project": "nowhere", "runner_command": ["python3", "run.py\x00"]}
    status, answer, _ = await api.call("POST", "/api/v1/jobs", token, json=body)

    # Then it is a 422 naming the argument, and nothing was stored
    assert status == 422, answer
    assert [f["field"] for f in answer["error"]["details"]["fields"]] == ["runner_command[1]"]
    assert Job.select().count() == 0


async def test_an_idempotency_key_over_its_limit_is_refused(api: Api) -> None:
    # Given a member and a valid recipe job
    token = await member(api)
    body = {"recipe": "packing", "payload": PACKING}

    # When it is posted with a key one character too long, Then it is a 422 naming the header and nothing is stored
    key = "k" * (MAX_IDEMPOTENCY_KEY_CHARS + 1)
    status, answer, _ = await api.call("POST", "/api/v1/jobs", token, json=body, headers={"Idempotency-Key": key})
    assert status == 422, answer
    assert [f["field"] for f in answer["error"]["details"]["fields"]] == ["Idempotency-Key"]
    assert Job.select().count() == 0

    # When it is posted with a key at the limit, Then it is accepted
    key = "k" * MAX_IDEMPOTENCY_KEY_CHARS
    status, answer, _ = await api.call("POST", "/api/v1/jobs", token, json=body, headers={"Idempotency-Key": key})
    assert status == 201, answer


@pytest.mark.parametrize("name", ["llms.txt.md", "llms-full.txt.md"])
def test_the_docs_list_every_limit_with_its_value(name: str) -> None:
    # Given the Limits section of a served guide
    text = (Path(__file__).parents[3] / "controller" / "docs" / name).read_text()
    section = text.split("### Limits", 1)[1].split("\n## ", 1)[0]

    # When the limits' values are looked for, Then each is there, as is what happens when dispatch still fails
    values = [
        f"{MAX_DEPTH} levels",
        f"{MIN_INT} … {MAX_INT}",
        f"1 … {MAX_BATCH_SIZE:,}",
        f"| {MAX_ELEMENTS:,} |",
        f"| {MAX_SWEEP_COMBINATIONS:,} |",
        f"| {MAX_BENCHMARK_RUNS:,} (`replicas` 1 … {MAX_REPLICAS})",
        f"| {MAX_TASK_PAYLOAD_BYTES // 2**20} MiB |",
        f"| {MAX_JOB_PAYLOAD_BYTES // 2**20} MiB |",
        f"{MAX_COMMAND_ARGS} arguments of at most {MAX_COMMAND_ARG_CHARS:,} characters each, no NUL",
        f"| {MAX_DEPENDS_ON} job ids |",
        f"| {MAX_IDEMPOTENCY_KEY_CHARS} characters |",
        "`dispatch_failed`",
        "`invalid_command`",
    ]
    assert [value for value in values if value not in section] == []
