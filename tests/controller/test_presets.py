"""Tests of controller.presets: the published presets and how requirements resolve to one."""

from __future__ import annotations

import pytest

from broker.queues import PROFILES
from controller.errors import ValidationFailed
from controller.presets import DEFAULT_PRESET, PRESETS, Preset, resolve


def test_the_presets_are_published_under_their_own_names() -> None:
    # Given the preset table, Then each key is its preset's name and the default is one of them
    assert list(PRESETS) == ["cpu-small", "cpu-large", "gpu-small", "gpu-large"]
    assert all(name == preset.name for name, preset in PRESETS.items())
    assert DEFAULT_PRESET in PRESETS


def test_every_preset_routes_to_a_broker_profile() -> None:
    # Given the presets, Then each profile has task queues, and GPU presets ask for a GPU
    for preset in PRESETS.values():
        assert preset.profile in PROFILES
        assert (preset.gpu_count > 0) == (preset.profile == "gpu")


def test_a_preset_to_json_shows_requirements_and_price_in_dollars() -> None:
    # Given the gpu-small preset
    # When rendered for GET /api/v1/presets
    data = PRESETS["gpu-small"].to_json()

    # Then the requirements are grouped and the micro-dollar price is in dollars
    assert data == {
        "name": "gpu-small",
        "profile": "gpu",
        "description": "1 GPU with 16 GB: inference, small training",
        "requirements": {"cpu": 4, "memory_mb": 16384, "gpu_count": 1, "gpu_memory_mb": 16384},
        "usd_per_hour": 0.9,
    }


def test_a_free_preset_costs_zero() -> None:
    # Given a preset without a price, Then its hourly price is 0
    assert Preset("x", "cpu", 1, 1).to_json()["usd_per_hour"] == 0


@pytest.mark.parametrize("requirements", [None, {}])
def test_no_requirements_resolve_to_the_default_preset(requirements: dict | None) -> None:
    # Given no requirements
    # When resolved
    preset, minimums = resolve(requirements)

    # Then the job runs under cpu-small with its minimums
    assert preset.name == "cpu-small"
    assert minimums == {"cpu": 1, "memory_mb": 2048, "gpu_count": 0, "gpu_memory_mb": 0}


def test_asking_for_a_gpu_without_a_profile_picks_gpu_small() -> None:
    # Given a GPU count but no profile
    # When resolved, Then the gpu-small preset is chosen
    preset, minimums = resolve({"gpu_count": 1})
    assert preset.name == "gpu-small"
    assert minimums["gpu_count"] == 1


def test_explicit_minimums_raise_the_presets_but_never_lower_them() -> None:
    # Given cpu-large with more memory and fewer CPUs than it offers
    # When resolved
    preset, minimums = resolve({"profile": "cpu-large", "cpu": 2, "memory_mb": 65536})

    # Then memory is raised, CPUs stay at the preset's 8
    assert preset.name == "cpu-large"
    assert minimums == {"cpu": 8, "memory_mb": 65536, "gpu_count": 0, "gpu_memory_mb": 0}


def test_an_unknown_profile_is_a_validation_error_naming_the_presets() -> None:
    # Given a profile that names no preset
    # When resolved
    with pytest.raises(ValidationFailed) as caught:
        resolve({"profile": "tpu-huge"})

    # Then requirements.profile is named, with the choices
    [error] = caught.value.errors
    assert error["field"] == "requirements.profile"
    assert "tpu-huge" in error["message"]
    assert all(name in error["message"] for name in PRESETS)
