"""Tests of controller.jobs.presets: the published presets and how requirements resolve to one."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.queues import SIZES, task_queue
from controller.core.errors import ValidationFailed
from controller.jobs.presets import DEFAULT_PRESET, PRESETS, Preset, resolve

NUMERIC = ("cpu", "memory_mb", "gpu_count", "gpu_memory_mb")


def failed_fields(requirements: dict[str, Any]) -> dict[str, str]:
    """The fields named by the ValidationFailed that resolve raises, mapped to their messages."""
    with pytest.raises(ValidationFailed) as caught:
        resolve(requirements)
    return {e["field"]: e["message"] for e in caught.value.errors}


# --- the table ---------------------------------------------------------------------------------------------------


def test_the_presets_are_published_under_their_own_names() -> None:
    # Given the preset table, Then each key is its preset's name and the default is one of them
    assert list(PRESETS) == ["cpu-small", "cpu-large", "gpu-small", "gpu-large"]
    assert all(name == preset.name for name, preset in PRESETS.items())
    assert DEFAULT_PRESET == "cpu-small"


def test_every_preset_is_a_broker_capacity_class_with_its_minimums() -> None:
    # Given the presets
    for preset in PRESETS.values():
        size = SIZES[preset.name]

        # Then each has task queues, reads its minimums from the broker's class, and GPU presets ask for a GPU
        assert task_queue(preset.name).startswith("computalot.tasks.")
        assert (preset.profile, preset.cpu, preset.memory_mb, preset.gpu_count, preset.gpu_memory_mb) == (
            size.profile,
            size.cpu,
            size.memory_mb,
            size.gpu_count,
            size.gpu_memory_mb,
        )
        assert (preset.gpu_count > 0) == (preset.profile == "gpu")
    assert set(PRESETS) == set(SIZES)


def test_larger_presets_cost_more_within_a_profile() -> None:
    # Given the presets of each profile, smallest first, Then the hourly price rises with the size
    for profile in ("cpu", "gpu"):
        prices = [p.micro_usd_per_hour for p in PRESETS.values() if p.profile == profile]
        assert prices == sorted(prices) and len(set(prices)) == len(prices)


def test_a_preset_to_json_shows_requirements_and_price_in_dollars() -> None:
    # Given the gpu-small preset
    # When rendered for GET /api/v1/presets
    data = PRESETS["gpu-small"].to_json()

    # Then the requirements are grouped and the micro-dollar price is in dollars
    assert data == {
        "name": "gpu-small",
        "profile": "gpu",
        "description": PRESETS["gpu-small"].description,
        "requirements": {"cpu": 4, "memory_mb": 16384, "gpu_count": 1, "gpu_memory_mb": 16384},
        "usd_per_hour": 0.9,
    }
    assert "GPU" in data["description"]


def test_a_free_preset_costs_zero() -> None:
    # Given a preset without a price, Then its hourly price is 0
    assert Preset("cpu-small", 0, "free").to_json()["usd_per_hour"] == 0


# --- defaults ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("requirements", [None, {}, {"storage_gb": 50}, {"cpu": 1, "gpu_count": 0}])
def test_no_requirements_resolve_to_the_default_preset(requirements: dict | None) -> None:
    # Given no requirements, or only ones cpu-small already meets
    # When resolved, Then the job runs under cpu-small
    assert resolve(requirements).name == "cpu-small"


def test_asking_for_a_gpu_without_a_profile_picks_gpu_small() -> None:
    # Given a GPU count but no profile
    # When resolved, Then the gpu-small preset is chosen
    assert resolve({"gpu_count": 1}).name == "gpu-small"


@pytest.mark.parametrize("name", list(PRESETS))
def test_a_named_preset_without_minimums_is_used_as_is(name: str) -> None:
    # Given only a profile, When resolved, Then that preset is chosen
    assert resolve({"profile": name}) == PRESETS[name]


# --- escalation --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requirements", "expected"),
    [
        ({"cpu": 2}, "cpu-large"),
        ({"memory_mb": 2049}, "cpu-large"),
        ({"profile": "cpu-small", "cpu": 8, "memory_mb": 32768}, "cpu-large"),
        ({"gpu_memory_mb": 24000, "gpu_count": 1}, "gpu-large"),
        ({"profile": "gpu-small", "cpu": 5}, "gpu-large"),
        ({"profile": "gpu-small", "memory_mb": 16385}, "gpu-large"),
    ],
)
def test_minimums_above_the_named_preset_escalate_to_the_next_larger_one(
    requirements: dict[str, Any], expected: str
) -> None:
    # Given minimums that exceed the named (or default) preset but fit a larger one of its profile
    # When resolved, Then the smallest such preset is chosen
    assert resolve(requirements).name == expected


def test_minimums_below_a_named_preset_never_shrink_it() -> None:
    # Given cpu-large with fewer CPUs and less memory than it offers
    # When resolved, Then cpu-large stays (never cpu-small)
    assert resolve({"profile": "cpu-large", "cpu": 1, "memory_mb": 1024}).name == "cpu-large"


def test_minimums_equal_to_a_presets_own_do_not_escalate() -> None:
    # Given minimums exactly at gpu-small's, When resolved, Then gpu-small is enough
    assert resolve({"cpu": 4, "memory_mb": 16384, "gpu_count": 1, "gpu_memory_mb": 16384}).name == "gpu-small"


def test_escalation_never_crosses_to_another_profile() -> None:
    # Given more CPUs than any cpu preset has, but fewer than gpu-large's
    # When resolved, Then no gpu preset is picked: requirements.cpu is named instead
    errors = failed_fields({"cpu": 16})
    assert list(errors) == ["requirements.cpu"]
    assert "no cpu preset offers 16" in errors["requirements.cpu"]


# --- refusals ----------------------------------------------------------------------------------------------------


def test_an_unknown_profile_is_a_validation_error_naming_the_presets() -> None:
    # Given a profile that names no preset
    # When resolved
    errors = failed_fields({"profile": "tpu-huge"})

    # Then requirements.profile is named, with the choices
    assert list(errors) == ["requirements.profile"]
    assert "tpu-huge" in errors["requirements.profile"]
    assert all(name in errors["requirements.profile"] for name in PRESETS)


@pytest.mark.parametrize("profile", ["cpu-small", "cpu-large"])
def test_a_gpu_on_a_cpu_preset_is_refused(profile: str) -> None:
    # Given a cpu preset asked for a GPU
    # When resolved, Then gpu_count is named (no cpu preset has one)
    errors = failed_fields({"profile": profile, "gpu_count": 1})
    assert list(errors) == ["requirements.gpu_count"]
    assert "no cpu preset offers 1" in errors["requirements.gpu_count"]


@pytest.mark.parametrize(
    ("requirements", "fields"),
    [
        ({"memory_mb": 65536}, ["requirements.memory_mb"]),
        ({"profile": "cpu-large", "cpu": 2, "memory_mb": 65536}, ["requirements.memory_mb"]),
        ({"gpu_count": 2}, ["requirements.gpu_count"]),
        ({"profile": "gpu-small", "gpu_memory_mb": 80001}, ["requirements.gpu_memory_mb"]),
        ({"cpu": 9, "memory_mb": 40000}, ["requirements.cpu", "requirements.memory_mb"]),
    ],
)
def test_minimums_no_preset_covers_name_every_field_too_big(requirements: dict[str, Any], fields: list[str]) -> None:
    # Given minimums above the largest preset of the profile
    # When resolved
    errors = failed_fields(requirements)

    # Then each field too big is named, pointing at the presets
    assert list(errors) == fields
    assert all("GET /api/v1/presets" in message for message in errors.values())


requirement_sets = st.fixed_dictionaries(
    {},
    optional={
        "profile": st.sampled_from(list(PRESETS)),
        "cpu": st.integers(0, 20),
        "memory_mb": st.integers(0, 140_000),
        "gpu_count": st.integers(0, 2),
        "gpu_memory_mb": st.integers(0, 90_000),
    },
)


@given(requirements=requirement_sets)
def test_a_resolved_preset_is_the_smallest_covering_one_of_the_asked_profile(requirements: dict[str, Any]) -> None:
    # Given any requirements
    name = requirements.get("profile") or ("gpu-small" if requirements.get("gpu_count", 0) > 0 else "cpu-small")
    profile = PRESETS[name].profile
    names = list(PRESETS)
    candidates = [PRESETS[n] for n in names[names.index(name) :] if PRESETS[n].profile == profile]

    def covers(preset: Preset) -> bool:
        return all(getattr(preset, key) >= requirements.get(key, 0) for key in NUMERIC)

    # When resolved
    try:
        preset = resolve(requirements)
    except ValidationFailed:
        # Then a refusal means no preset from the named one up covers the minimums
        assert not any(covers(p) for p in candidates)
        return

    # Then the preset is of the asked profile, covers every minimum, and no smaller candidate does
    assert preset.profile == profile
    assert covers(preset)
    assert not any(covers(p) for p in candidates[: candidates.index(preset)])
