"""Resource presets: named requirement bundles with an hourly rate (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broker.queues import SIZES
from controller.core.errors import ValidationFailed, field_error


@dataclass(frozen=True)
class Preset:
    """A capacity class of `broker.queues.SIZES` with its price and description."""

    name: str
    #: price in micro-dollars per task-hour
    micro_usd_per_hour: int
    description: str

    @property
    def profile(self) -> str:
        return SIZES[self.name].profile

    @property
    def cpu(self) -> int:
        return SIZES[self.name].cpu

    @property
    def memory_mb(self) -> int:
        return SIZES[self.name].memory_mb

    @property
    def gpu_count(self) -> int:
        return SIZES[self.name].gpu_count

    @property
    def gpu_memory_mb(self) -> int:
        return SIZES[self.name].gpu_memory_mb

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "profile": self.profile,
            "description": self.description,
            "requirements": {
                "cpu": self.cpu,
                "memory_mb": self.memory_mb,
                "gpu_count": self.gpu_count,
                "gpu_memory_mb": self.gpu_memory_mb,
            },
            "usd_per_hour": self.micro_usd_per_hour / 1_000_000,
        }


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("cpu-small", 40_000, "1 vCPU, 2 GB: scripts, small fan-outs"),
        Preset("cpu-large", 320_000, "8 vCPU, 32 GB: parallel CPU work"),
        Preset("gpu-small", 900_000, "1 GPU with 16 GB, 4 vCPU: inference, small training"),
        Preset("gpu-large", 3_000_000, "1 GPU with 80 GB, 16 vCPU: training, large models"),
    )
}

DEFAULT_PRESET = "cpu-small"


#: requirement keys that a preset's minimums must cover
_NUMERIC = ("cpu", "memory_mb", "gpu_count", "gpu_memory_mb")


def resolve(requirements: dict[str, Any] | None) -> Preset:
    """The preset a job's tasks run under: the named one (default cpu-small, gpu-small when GPUs are asked for),
    or the next larger one of the same profile when explicit minimums exceed it.

    Raises:
      ValidationFailed: the profile names no preset, or no preset covers the minimums.
    """
    requirements = requirements or {}
    name = requirements.get("profile")
    if name is None:
        name = "gpu-small" if requirements.get("gpu_count", 0) > 0 else DEFAULT_PRESET
    start = PRESETS.get(name)
    if start is None:
        raise ValidationFailed(
            [field_error("requirements.profile", f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")]
        )
    names = list(PRESETS)
    for preset in (PRESETS[n] for n in names[names.index(name) :]):
        if preset.profile == start.profile and all(
            getattr(preset, key) >= requirements.get(key, 0) for key in _NUMERIC
        ):
            return preset
    too_big = [
        k
        for k in _NUMERIC
        if requirements.get(k, 0) > max(getattr(p, k) for p in PRESETS.values() if p.profile == start.profile)
    ]
    raise ValidationFailed(
        [
            field_error(
                f"requirements.{key}", f"no {start.profile} preset offers {requirements[key]}; see GET /api/v1/presets"
            )
            for key in too_big or ["profile"]
        ]
    )
