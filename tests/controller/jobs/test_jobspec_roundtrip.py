"""Property test: any valid submission stored as JSON text reads back as the same JobSpec."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.jobs.kinds import JOB_TYPES
from controller.jobs.kinds.structured import MERGE_STRATEGIES
from controller.jobs.spec import parse_job_spec, spec_from_json, spec_to_json

names = st.text(alphabet="abcdefghij_", min_size=1, max_size=8)
json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4),
    max_leaves=10,
)


rank_bys = (
    st.none() | names | st.fixed_dictionaries({"field": names}, optional={"order": st.sampled_from(["max", "min"])})
)


@st.composite
def typed_fields(draw: Any, job_type: str, batch: int) -> dict[str, Any]:
    """The fields of a valid sweep, map_reduce or benchmark job."""
    if job_type == "sweep":
        return {
            "parameters": draw(
                st.dictionaries(names, st.lists(json_values, min_size=1, max_size=3), min_size=1, max_size=3)
            ),
            "fixed_payload": draw(st.dictionaries(names, json_values, max_size=3)),
            "rank_by": draw(rank_bys),
        }
    if job_type == "benchmark":
        overrides = st.dictionaries(names, json_values, max_size=3)
        pairs = draw(st.dictionaries(names, overrides, min_size=1, max_size=4))
        as_list = draw(st.booleans())
        return {
            "candidates": [{"name": n, "payload": p} for n, p in pairs.items()] if as_list else pairs,
            "shared_payload": draw(st.dictionaries(names, json_values, max_size=3)),
            "replicas": draw(st.integers(min_value=1, max_value=100)),
            "rank_by": draw(rank_bys),
        }
    split = draw(
        st.sampled_from(
            [
                {"items": [{"i": 0}, {"i": 1}], "batch_size": batch},
                {"chunks": 3, "range_field": "n", "total": 10, "batch_size": batch},
            ]
        )
    )
    operators = st.dictionaries(
        names,
        st.sampled_from(["sum", "mean", "min", "max", "count", "concat", "first", "weighted_mean:w"]),
        min_size=1,
        max_size=3,
    )
    reduce = draw(
        st.one_of(
            st.fixed_dictionaries({"operators": operators}),
            st.fixed_dictionaries({"runner_command": st.lists(names, min_size=1, max_size=3)}),
        )
    )
    return {"split": split, "reduce": reduce}


@st.composite
def submissions(draw: Any) -> tuple[dict[str, Any], str | None]:
    """A valid submission body and the recipe route, if any."""
    payload = draw(st.dictionaries(names, json_values, max_size=4))
    recipe = draw(st.none() | names)
    submission: dict[str, Any] = {} if recipe else {"project": draw(names)}
    if recipe is None and draw(st.booleans()):
        submission["runner_command"] = draw(st.lists(names, min_size=1, max_size=3))
    job_type = "structured_runner" if recipe else draw(st.sampled_from(JOB_TYPES))
    if job_type != "structured_runner":
        submission["type"] = job_type
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
    if job_type == "structured_runner":
        submission["merge_strategy"] = draw(st.sampled_from(MERGE_STRATEGIES))
        submission["merge"] = draw(st.fixed_dictionaries({}, optional={"key_field": names, "weight_field": names}))
    else:
        submission.pop("fan_out", None)
        submission.update(draw(typed_fields(job_type, batch)))
    if job_type not in ("sweep", "benchmark"):  # they take fixed_payload / shared_payload instead
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
