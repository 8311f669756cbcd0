"""Tests of controller.jobs.spec: defaults, one 422 naming every bad field, fan-out errors, and the stored form."""

from __future__ import annotations

import json
from typing import Any

import pytest

from controller.core.errors import InvalidFanOut, ValidationFailed
from controller.jobs.fanout import FanOut
from controller.jobs.kinds import JOB_TYPES, TYPE_FIELDS, TYPED_FIELDS
from controller.jobs.kinds.structured import MERGE_STRATEGIES
from controller.jobs.ranking import RankBy
from controller.jobs.spec import (
    DEFAULT_TIMEOUT_S,
    KNOWN_FIELDS,
    JobSpec,
    parse_job_spec,
    spec_from_json,
    spec_to_json,
)


def body(**fields: Any) -> dict[str, Any]:
    """A minimal valid project submission with `fields` on top."""
    return {"project": "demo", **fields}


def bad_fields(submission: Any, error: type[ValidationFailed] = ValidationFailed, **kwargs: Any) -> dict[str, str]:
    """The fields named by the error parse_job_spec raises for `submission`, mapped to their messages."""
    with pytest.raises(error) as caught:
        parse_job_spec(submission, **kwargs)
    assert type(caught.value) is error
    assert caught.value.details == {"fields": caught.value.errors}
    return {e["field"]: e["message"] for e in caught.value.errors}


# --- defaults ----------------------------------------------------------------------------------------------------


def test_a_minimal_submission_takes_the_documented_defaults() -> None:
    # Given only a project
    # When it is parsed
    spec = parse_job_spec({"project": "demo"})

    # Then every other field has its JOBS.md default
    assert spec == JobSpec(
        type="structured_runner",
        recipe=None,
        project="demo",
        runner_command=None,
        payload={},
        fan_out=None,
        merge_strategy="collect",
        merge={},
        timeout_s=3600,
        max_retries=0,
        priority="normal",
        depends_on=(),
        tags=(),
        callback_url=None,
        requirements=None,
        checkpointing=False,
        meta=None,
    )
    assert DEFAULT_TIMEOUT_S == 3600


def test_a_full_submission_keeps_every_field() -> None:
    # Given every field set to a valid value
    submission = body(
        type="structured_runner",
        runner_command=["python3", "run.py"],
        payload={"models": ["a", "b"]},
        fan_out={"by": "models", "batch_size": 2},
        merge_strategy="collect",
        merge={},
        timeout_s=86_400,
        max_retries=10,
        priority="high",
        depends_on=["job_1", "job_1", "job_2"],
        tags=["nightly", "x" * 64, "nightly"],
        callback_url="https://hooks.example.com/done",
        requirements={"cpu": 2, "memory_mb": 4096.0, "gpu_count": 0, "profile": "cpu-large"},
        checkpointing={"enabled": True, "resume_from_latest": True},
        meta={"owner": "ana"},
    )

    # When it is parsed
    spec = parse_job_spec(submission)

    # Then the values are kept, lists become tuples, and repeated ids and tags are dropped
    assert spec.runner_command == ("python3", "run.py")
    assert spec.fan_out == FanOut(by="models", batch_size=2)
    assert (spec.timeout_s, spec.max_retries, spec.priority) == (86_400, 10, "high")
    assert spec.depends_on == ("job_1", "job_2")
    assert spec.tags == ("nightly", "x" * 64)
    assert spec.callback_url == "https://hooks.example.com/done"
    assert spec.requirements == {"cpu": 2, "memory_mb": 4096.0, "gpu_count": 0, "profile": "cpu-large"}
    assert spec.checkpointing is True
    assert spec.meta == {"owner": "ana"}


@pytest.mark.parametrize(("name", "value"), [("timeout_s", 1), ("timeout_s", 86_400), ("max_retries", 0)])
def test_bounds_are_inclusive(name: str, value: int) -> None:
    # Given a value on a bound, When parsed, Then it is accepted
    assert getattr(parse_job_spec(body(**{name: value})), name) == value


# --- invalid fields ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"colour": "red"}, "colour", "unknown field"),
        ({"timeout_s": 0}, "timeout_s", "from 1 to 86400"),
        ({"timeout_s": 86_401}, "timeout_s", "from 1 to 86400"),
        ({"timeout_s": 10.5}, "timeout_s", "integer"),
        ({"timeout_s": "60"}, "timeout_s", "integer"),
        ({"timeout_s": True}, "timeout_s", "integer"),
        ({"max_retries": -1}, "max_retries", "from 0 to 10"),
        ({"max_retries": 11}, "max_retries", "from 0 to 10"),
        ({"priority": "urgent"}, "priority", "high, normal, low"),
        ({"priority": None}, "priority", "high, normal, low"),
        ({"type": "pipeline"}, "type", "structured_runner, sweep, map_reduce, benchmark"),
        ({"type": None}, "type", "must be one of"),
        ({"merge_strategy": "median"}, "merge_strategy", "collect, keyed, weighted_avg"),
        ({"merge": []}, "merge", "key_field, weight_field"),
        ({"merge": {"sort_by": "x"}}, "merge", "key_field, weight_field"),
        ({"merge": {"key_field": ""}}, "merge.key_field", "result field name"),
        ({"merge": {"weight_field": 3}}, "merge.weight_field", "result field name"),
        ({"tags": "nightly"}, "tags", "at most 20"),
        ({"tags": [f"t{i}" for i in range(21)]}, "tags", "at most 20"),
        ({"tags": ["x" * 65]}, "tags", "1 to 64"),
        ({"tags": [""]}, "tags", "1 to 64"),
        ({"tags": [7]}, "tags", "1 to 64"),
        ({"depends_on": "job_1"}, "depends_on", "job ids"),
        ({"depends_on": [""]}, "depends_on", "job ids"),
        ({"runner_command": []}, "runner_command", "non-empty list"),
        ({"runner_command": "python run.py"}, "runner_command", "non-empty list"),
        ({"runner_command": ["python", ""]}, "runner_command", "non-empty strings"),
        ({"runner_command": ["python", 3]}, "runner_command", "non-empty strings"),
        ({"payload": [1, 2]}, "payload", "JSON object"),
        ({"payload": "x"}, "payload", "JSON object"),
        ({"payload": None}, "payload", "JSON object"),
        ({"meta": "note"}, "meta", "JSON object"),
        ({"requirements": "big"}, "requirements", "must be an object"),
        ({"requirements": {"ram": 4}}, "requirements.ram", "unknown key"),
        ({"requirements": {"cpu": -1}}, "requirements.cpu", "non-negative number"),
        ({"requirements": {"cpu": "2"}}, "requirements.cpu", "non-negative number"),
        ({"requirements": {"gpu_count": True}}, "requirements.gpu_count", "non-negative number"),
        ({"requirements": {"profile": 3}}, "requirements.profile", "preset name"),
        ({"callback_url": "ftp://example.com/x"}, "callback_url", "http:// or https://"),
        ({"callback_url": "file:///etc/passwd"}, "callback_url", "http:// or https://"),
        ({"callback_url": "https://"}, "callback_url", "http:// or https://"),
        ({"callback_url": 42}, "callback_url", "http:// or https://"),
        ({"checkpointing": True}, "checkpointing", "{enabled, resume_from_latest}"),
        ({"checkpointing": {"enabled": True, "every_s": 60}}, "checkpointing", "{enabled, resume_from_latest}"),
    ],
)
def test_an_invalid_field_is_named_with_what_to_change(fields: dict[str, Any], field: str, says: str) -> None:
    # Given a submission with one bad field
    # When it is parsed
    errors = bad_fields(body(**fields))

    # Then a 422 validation_failed names exactly that field, with a useful message
    assert list(errors) == [field]
    assert says in errors[field]


def test_a_project_is_required_without_a_recipe() -> None:
    # Given neither project nor recipe, When parsed, Then project is named
    assert list(bad_fields({"payload": {}})) == ["project"]


def test_a_body_that_is_not_an_object_is_refused() -> None:
    # Given a JSON list as the body, When parsed, Then the body itself is named
    assert list(bad_fields([{"project": "demo"}])) == ["body"]


def test_an_unknown_field_message_lists_the_allowed_fields() -> None:
    # Given a misspelt field
    errors = bad_fields(body(timeout=60))

    # Then the message shows every allowed field
    assert all(name in errors["timeout"] for name in KNOWN_FIELDS)


def test_several_bad_fields_are_reported_together() -> None:
    # Given four independent mistakes
    submission = {"timeout_s": 0, "priority": "asap", "tags": ["y" * 65], "bogus": 1}

    # When parsed
    errors = bad_fields(submission)

    # Then one error names all of them (and the missing project)
    assert set(errors) == {"bogus", "project", "timeout_s", "priority", "tags"}


def test_a_validation_error_has_the_422_envelope() -> None:
    # Given a bad submission
    with pytest.raises(ValidationFailed) as caught:
        parse_job_spec(body(max_retries=99))

    # Then it is a 422 validation_failed whose message and details name the field
    error = caught.value
    assert (error.code, error.status) == ("validation_failed", 422)
    assert "max_retries" in error.message
    assert error.to_json()["error"]["details"]["fields"][0]["field"] == "max_retries"


def test_a_callback_url_that_urlsplit_cannot_parse_is_a_validation_error() -> None:
    # Given a callback URL with an unterminated IPv6 host (urlsplit raises ValueError on it)
    # When parsed, Then it is named as a bad field (a 422), not an unhandled error (a 500)
    assert list(bad_fields(body(callback_url="http://[::1/hook"))) == ["callback_url"]


# --- job types and merge strategies ------------------------------------------------------------------------------


def test_the_job_types_and_merge_strategies_are_the_documented_ones() -> None:
    # Given JOBS.md, Then the four job types and three merge strategies are offered, defaults first
    assert JOB_TYPES == ("structured_runner", "sweep", "map_reduce", "benchmark")
    assert MERGE_STRATEGIES == ("collect", "keyed", "weighted_avg")
    assert KNOWN_FIELDS >= TYPED_FIELDS


@pytest.mark.parametrize("strategy", MERGE_STRATEGIES)
def test_every_merge_strategy_is_accepted(strategy: str) -> None:
    # Given a structured_runner job with each strategy, When parsed, Then it is kept
    assert parse_job_spec(body(merge_strategy=strategy)).merge_strategy == strategy


def test_merge_options_are_kept() -> None:
    # Given both merge options, When parsed, Then they are kept as given
    spec = parse_job_spec(body(merge_strategy="keyed", merge={"key_field": "name", "weight_field": "n"}))
    assert spec.merge == {"key_field": "name", "weight_field": "n"}


@pytest.mark.parametrize(
    ("job_type", "field", "value"),
    [
        ("structured_runner", "parameters", {"lr": [1]}),
        ("structured_runner", "rank_by", "score"),
        ("structured_runner", "split", {"items": [{}]}),
        ("structured_runner", "candidates", {"a": {}}),
        ("structured_runner", "replicas", 2),
        ("sweep", "fan_out", {"items": [{}]}),
        ("sweep", "merge_strategy", "keyed"),
        ("sweep", "merge", {"key_field": "k"}),
        ("sweep", "reduce", {"operators": {"x": "sum"}}),
        ("sweep", "shared_payload", {}),
        ("map_reduce", "rank_by", "score"),
        ("map_reduce", "fixed_payload", {}),
        ("map_reduce", "fan_out", {"items": [{}]}),
        ("benchmark", "parameters", {"lr": [1]}),
        ("benchmark", "fixed_payload", {}),
        ("benchmark", "split", {"items": [{}]}),
        ("benchmark", "merge_strategy", "collect"),
    ],
)
def test_a_field_of_another_job_type_is_refused_by_name(job_type: str, field: str, value: Any) -> None:
    # Given an otherwise valid job of one type carrying a field that belongs to another
    submission = body(**{k: v for k, v in TYPED_BODIES[job_type].items() if k != field}, **{field: value})

    # When parsed
    errors = bad_fields(submission)

    # Then only that field is named, saying which job type refuses it
    assert list(errors) == [field]
    assert errors[field] == f"not valid for a {job_type} job"


def test_a_recipe_job_refuses_typed_fields_as_a_structured_runner() -> None:
    # Given a recipe job with a sweep grid
    errors = bad_fields({"parameters": {"lr": [1]}}, recipe="packing")

    # Then parameters is named as not valid for the structured_runner job a recipe runs as
    assert errors == {"parameters": "not valid for a structured_runner job"}


@pytest.mark.parametrize("job_type", [["sweep"], {"name": "sweep"}, 3, True])
def test_a_type_that_is_not_a_string_is_named_not_a_crash(job_type: Any) -> None:
    # Given a type that is a list, an object, a number or a boolean
    # When parsed, Then it is a 422 naming type (not a TypeError, which would be a 500)
    errors = bad_fields(body(type=job_type))
    assert list(errors) == ["type"]
    assert "structured_runner" in errors["type"]


def test_the_type_is_only_named_once_when_unknown() -> None:
    # Given an unknown type
    errors = bad_fields(body(type="pipeline"))

    # Then only type is named (not a missing field of some type)
    assert list(errors) == ["type"]


@pytest.mark.parametrize("job_type", ["sweep", "map_reduce", "benchmark"])
def test_a_typed_job_without_its_required_fields_names_them(job_type: str) -> None:
    # Given a bare job of a type that needs fields of its own
    errors = bad_fields(body(type=job_type))

    # Then the required fields of that type are named
    required = {"sweep": {"parameters"}, "map_reduce": {"split", "reduce"}, "benchmark": {"candidates"}}[job_type]
    assert set(errors) == required


def test_typed_jobs_parse_into_their_own_fields() -> None:
    # Given one job of each typed kind
    sweep = parse_job_spec(body(**TYPED_BODIES["sweep"]))
    mapred = parse_job_spec(body(**TYPED_BODIES["map_reduce"]))
    bench = parse_job_spec(body(**TYPED_BODIES["benchmark"]))

    # Then each carries its parsed fields, and no fan-out of its own
    assert (sweep.parameters, sweep.fixed_payload, sweep.rank_by) == ({"lr": [0.1, 0.01]}, {"e": 1}, RankBy("auc"))
    assert mapred.split == FanOut(chunks=2, range_field="n", total=10)
    assert mapred.reduce == {"operators": {"edge": "mean"}, "runner_command": None}
    assert bench.candidates == (("a", {"k": 1}), ("b", {"k": 2}))
    assert (bench.shared_payload, bench.replicas, bench.rank_by) == ({"n": 5}, 3, RankBy("time", "min"))
    assert sweep.fan_out is mapred.fan_out is bench.fan_out is None


# --- recipes -----------------------------------------------------------------------------------------------------


def test_a_recipe_job_needs_no_project() -> None:
    # Given a recipe submission through the recipe route
    # When parsed
    spec = parse_job_spec({"payload": {"n": 3}}, recipe="packing")

    # Then the recipe is set and no project is required
    assert (spec.recipe, spec.project, spec.runner_command) == ("packing", None, None)


def test_a_recipe_named_in_the_body_is_used() -> None:
    # Given the recipe in the body, When parsed, Then it is the spec's recipe
    assert parse_job_spec({"recipe": "packing"}).recipe == "packing"


@pytest.mark.parametrize("field", ["type", "runner_command", "project"])
def test_a_recipe_job_refuses_type_command_and_project(field: str) -> None:
    # Given a recipe job that also sets a field the recipe provides
    value = {"type": "structured_runner", "runner_command": ["x"], "project": "demo"}[field]

    # When parsed, Then that field is named
    errors = bad_fields({field: value}, recipe="packing")
    assert list(errors) == [field]
    assert "not allowed with a recipe" in errors[field]


@pytest.mark.parametrize("recipe", ["", 5])
def test_an_empty_or_non_string_recipe_is_refused(recipe: Any) -> None:
    # Given a recipe field that names nothing, When parsed, Then recipe is named
    assert "recipe" in bad_fields({"recipe": recipe})


# --- fan-out -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fan_out", "payload"),
    [
        ({"by": "models", "items": [{}]}, {"models": [1]}),
        ({"by": "models", "chunks": 2, "range_field": "n", "total": 4}, {"models": [1]}),
        ({"items": [{}], "chunks": 1, "range_field": "n", "total": 1}, {}),
        ({}, {}),
        ({"batch_size": 2}, {}),
    ],
)
def test_mixed_or_missing_fan_out_shapes_raise_invalid_fan_out(
    fan_out: dict[str, Any], payload: dict[str, Any]
) -> None:
    # Given a fan-out with none or several shapes
    # When parsed
    errors = bad_fields(body(payload=payload, fan_out=fan_out), error=InvalidFanOut)

    # Then an invalid_fan_out names fan_out and says what it found
    assert list(errors) == ["fan_out"]
    assert "exactly one" in errors["fan_out"]


@pytest.mark.parametrize(
    ("fan_out", "payload", "field"),
    [
        ("models", {"models": [1]}, "fan_out"),
        ({"by": "models"}, {}, "fan_out.by"),
        ({"by": "models"}, {"models": "a,b"}, "fan_out.by"),
        ({"by": "models"}, {"models": []}, "fan_out.by"),
        ({"by": 3}, {"models": [1]}, "fan_out.by"),
        ({"by": "models", "range_field": "n"}, {"models": [1]}, "fan_out.range_field"),
        ({"items": []}, {}, "fan_out.items"),
        ({"items": [1, 2]}, {}, "fan_out.items"),
        ({"items": {"a": 1}}, {}, "fan_out.items"),
        ({"items": [{}], "total": 3}, {}, "fan_out.total"),
        ({"chunks": 0, "range_field": "n", "total": 4}, {}, "fan_out.chunks"),
        ({"chunks": True, "range_field": "n", "total": 4}, {}, "fan_out.chunks"),
        ({"chunks": 5, "range_field": "n", "total": 4}, {}, "fan_out.chunks"),
        ({"chunks": 2, "total": 4}, {}, "fan_out.range_field"),
        ({"chunks": 2, "range_field": "", "total": 4}, {}, "fan_out.range_field"),
        ({"chunks": 2, "range_field": "n"}, {}, "fan_out.total"),
        ({"chunks": 2, "range_field": "n", "total": 0}, {}, "fan_out.total"),
        ({"chunks": 2, "range_field": "n", "total": 4.0}, {}, "fan_out.total"),
        ({"by": "models", "batch_size": 0}, {"models": [1]}, "fan_out.batch_size"),
        ({"by": "models", "batch_size": 1.5}, {"models": [1]}, "fan_out.batch_size"),
        ({"by": "models", "batch_size": True}, {"models": [1]}, "fan_out.batch_size"),
    ],
)
def test_a_malformed_fan_out_raises_invalid_fan_out(fan_out: Any, payload: dict[str, Any], field: str) -> None:
    # Given one malformed part of a fan-out
    # When parsed
    errors = bad_fields(body(payload=payload, fan_out=fan_out), error=InvalidFanOut)

    # Then an invalid_fan_out (422) names the part
    assert list(errors) == [field]


def test_invalid_fan_out_has_its_own_code_and_status() -> None:
    # Given a mixed fan-out
    with pytest.raises(InvalidFanOut) as caught:
        parse_job_spec(body(fan_out={"by": "m", "items": []}))

    # Then the error is invalid_fan_out, a 422, and still a ValidationFailed
    assert (caught.value.code, caught.value.status) == ("invalid_fan_out", 422)
    assert isinstance(caught.value, ValidationFailed)


def test_a_bad_fan_out_next_to_other_bad_fields_names_them_all() -> None:
    # Given a bad fan-out and a bad timeout
    errors = bad_fields(body(timeout_s=-5, fan_out={"by": "m", "items": []}), error=InvalidFanOut)

    # Then both fields are listed in the one invalid_fan_out error
    assert set(errors) == {"timeout_s", "fan_out"}


@pytest.mark.parametrize(
    ("fan_out", "payload", "expected"),
    [
        ({"by": "m"}, {"m": [1, 2]}, FanOut(by="m")),
        ({"items": [{"a": 1}], "batch_size": 3}, {}, FanOut(items=({"a": 1},), batch_size=3)),
        ({"chunks": 4, "range_field": "n", "total": 4}, {}, FanOut(chunks=4, range_field="n", total=4)),
    ],
)
def test_a_valid_fan_out_becomes_a_typed_fan_out(
    fan_out: dict[str, Any], payload: dict[str, Any], expected: FanOut
) -> None:
    # Given a valid fan-out of each shape, When parsed, Then it becomes that FanOut
    spec = parse_job_spec(body(payload=payload, fan_out=fan_out))
    assert spec.fan_out == expected
    assert spec.fan_out.shape == next(s for s in ("by", "items", "chunks") if s in fan_out)


# --- stored form -------------------------------------------------------------------------------------------------


COMMON_FIELDS = KNOWN_FIELDS - TYPED_FIELDS

TYPED_BODIES: dict[str, dict[str, Any]] = {
    "structured_runner": {"payload": {"m": [1]}, "fan_out": {"by": "m"}},
    "sweep": {"type": "sweep", "parameters": {"lr": [0.1, 0.01]}, "fixed_payload": {"e": 1}, "rank_by": "auc"},
    "map_reduce": {
        "type": "map_reduce",
        "split": {"chunks": 2, "range_field": "n", "total": 10},
        "reduce": {"operators": {"edge": "mean"}},
    },
    "benchmark": {
        "type": "benchmark",
        "candidates": {"a": {"k": 1}, "b": {"k": 2}},
        "shared_payload": {"n": 5},
        "replicas": 3,
        "rank_by": {"field": "time", "order": "min"},
    },
}


@pytest.mark.parametrize("job_type", JOB_TYPES)
def test_the_stored_form_has_the_common_fields_and_those_of_its_type_and_is_json(job_type: str) -> None:
    # Given a parsed spec of each type
    spec = parse_job_spec(body(**TYPED_BODIES[job_type]))

    # When turned into its stored form
    data = spec_to_json(spec)

    # Then it has one key per common field (fan_out and merge always among them) plus its type's own, and is JSON
    assert set(data) == COMMON_FIELDS | TYPE_FIELDS["structured_runner"] | TYPE_FIELDS[job_type]
    assert job_type == "structured_runner" or (data["fan_out"], data["merge_strategy"]) == (None, "collect")
    assert data["type"] == job_type
    assert data["checkpointing"] == {"enabled": False}
    assert json.loads(json.dumps(data)) == data
    assert spec_from_json(json.loads(json.dumps(data))) == spec


def test_the_stored_fan_out_drops_its_unset_keys() -> None:
    # Given a by fan-out, When stored, Then only by and batch_size remain
    spec = parse_job_spec(body(payload={"m": [1]}, fan_out={"by": "m"}))
    assert spec_to_json(spec)["fan_out"] == {"by": "m", "batch_size": 1}


def test_the_stored_form_of_typed_jobs_is_normalised() -> None:
    # Given a benchmark with candidates as an object and a string rank_by, and a map_reduce with a reduce task
    bench = spec_to_json(parse_job_spec(body(**{**TYPED_BODIES["benchmark"], "rank_by": "time"})))
    reduce_job = spec_to_json(
        parse_job_spec(
            body(
                type="map_reduce",
                payload={"xs": [1, 2]},
                split={"by": "xs", "batch_size": 2},
                reduce={"runner_command": ["python3", "reduce.py"]},
            )
        )
    )

    # Then candidates are a list of {name, payload}, rank_by an object with its default order,
    # the split drops unset keys and the reduce command is a list
    assert bench["candidates"] == [{"name": "a", "payload": {"k": 1}}, {"name": "b", "payload": {"k": 2}}]
    assert bench["rank_by"] == {"field": "time", "order": "max"}
    assert reduce_job["split"] == {"by": "xs", "batch_size": 2}
    assert reduce_job["reduce"] == {"operators": {}, "runner_command": ["python3", "reduce.py"]}


def test_a_recipe_spec_stores_no_type() -> None:
    # Given a recipe spec, When stored, Then type is null and it still reads back as the same spec
    spec = parse_job_spec({}, recipe="packing")
    data = spec_to_json(spec)
    assert data["type"] is None
    assert spec_from_json(data) == spec


@pytest.mark.parametrize("enabled", ["false", [0]])
def test_checkpointing_enabled_must_be_a_boolean(enabled: Any) -> None:
    # Given checkpointing whose `enabled` is not true or false (a string "false" would otherwise turn it on)
    # When parsed, Then the checkpointing field is named
    assert list(bad_fields(body(checkpointing={"enabled": enabled}))) == ["checkpointing"]
