"""Tests of controller.jobspec: defaults, one 422 naming every bad field, fan-out errors, and the stored form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.errors import InvalidFanOut, ValidationFailed
from controller.jobspec import (
    DEFAULT_TIMEOUT_S,
    KNOWN_FIELDS,
    FanOut,
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
        ({"type": "sweep"}, "type", "must be one of"),
        ({"merge_strategy": "median"}, "merge_strategy", "must be one of"),
        ({"merge": []}, "merge", "JSON object"),
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


def test_the_stored_form_has_every_field_and_is_json() -> None:
    # Given a parsed spec
    spec = parse_job_spec(body(payload={"m": [1]}, fan_out={"by": "m"}))

    # When turned into its stored form
    data = spec_to_json(spec)

    # Then it has one key per known field, and fan_out drops its unset keys
    assert set(data) == KNOWN_FIELDS
    assert data["fan_out"] == {"by": "m", "batch_size": 1}
    assert data["checkpointing"] == {"enabled": False}
    assert json.loads(json.dumps(data)) == data


def test_a_recipe_spec_stores_no_type() -> None:
    # Given a recipe spec, When stored, Then type is null and it still reads back as the same spec
    spec = parse_job_spec({}, recipe="packing")
    data = spec_to_json(spec)
    assert data["type"] is None
    assert spec_from_json(data) == spec


names = st.text(alphabet="abcdefghij_", min_size=1, max_size=8)
json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4),
    max_leaves=10,
)


@st.composite
def submissions(draw: Any) -> tuple[dict[str, Any], str | None]:
    """A valid submission body and the recipe route, if any."""
    payload = draw(st.dictionaries(names, json_values, max_size=4))
    recipe = draw(st.none() | names)
    submission: dict[str, Any] = {} if recipe else {"project": draw(names)}
    if recipe is None and draw(st.booleans()):
        submission["runner_command"] = draw(st.lists(names, min_size=1, max_size=3))
    shape = draw(st.sampled_from([None, "by", "items", "chunks"]))
    batch = draw(st.integers(min_value=1, max_value=5))
    if shape == "by":
        payload["fan"] = draw(st.lists(json_values, min_size=1, max_size=5))
        submission["fan_out"] = {"by": "fan", "batch_size": batch}
    elif shape == "items":
        items = draw(st.lists(st.dictionaries(names, json_values, max_size=3), min_size=1, max_size=5))
        submission["fan_out"] = {"items": items, "batch_size": batch}
    elif shape == "chunks":
        total = draw(st.integers(min_value=1, max_value=1000))
        chunks = draw(st.integers(min_value=1, max_value=total))
        submission["fan_out"] = {"chunks": chunks, "range_field": draw(names), "total": total, "batch_size": batch}
    submission["payload"] = payload
    submission["timeout_s"] = draw(st.integers(min_value=1, max_value=86_400))
    submission["max_retries"] = draw(st.integers(min_value=0, max_value=10))
    submission["priority"] = draw(st.sampled_from(["high", "normal", "low"]))
    submission["tags"] = draw(st.lists(st.text(min_size=1, max_size=64), max_size=20))
    submission["depends_on"] = draw(st.lists(names, max_size=3))
    submission["callback_url"] = draw(st.none() | st.just("https://example.com/cb"))
    submission["requirements"] = draw(
        st.none() | st.fixed_dictionaries({}, optional={"cpu": st.integers(0, 64), "profile": st.just("gpu-small")})
    )
    submission["checkpointing"] = draw(st.none() | st.fixed_dictionaries({"enabled": st.booleans()}))
    submission["meta"] = draw(st.none() | st.dictionaries(names, json_values, max_size=3))
    return submission, recipe


@settings(max_examples=150, deadline=None)
@given(case=submissions())
def test_the_stored_form_reads_back_as_the_same_spec(case: tuple[dict[str, Any], str | None]) -> None:
    # Given any valid submission
    submission, recipe = case
    spec = parse_job_spec(submission, recipe=recipe)

    # When it is stored as JSON text and read back
    stored = json.loads(json.dumps(spec_to_json(spec)))
    restored = spec_from_json(stored)

    # Then the spec is equal to the one parsed
    assert restored == spec


@pytest.mark.parametrize("enabled", ["false", [0]])
def test_checkpointing_enabled_must_be_a_boolean(enabled: Any) -> None:
    # Given checkpointing whose `enabled` is not true or false (a string "false" would otherwise turn it on)
    # When parsed, Then the checkpointing field is named
    assert list(bad_fields(body(checkpointing={"enabled": enabled}))) == ["checkpointing"]
