"""Resource presets: named requirement bundles with an hourly rate (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controller.errors import ValidationFailed, field_error


@dataclass(frozen=True)
class Preset:
    name: str
    profile: str
    cpu: int
    memory_mb: int
    gpu_count: int = 0
    gpu_memory_mb: int = 0
    #: price in micro-dollars per task-hour
    micro_usd_per_hour: int = 0
    description: str = ""

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
        Preset(
            "cpu-small", "cpu", 1, 2048, micro_usd_per_hour=40_000, description="1 vCPU, 2 GB: scripts, small fan-outs"
        ),
        Preset(
            "cpu-large", "cpu", 8, 32768, micro_usd_per_hour=320_000, description="8 vCPU, 32 GB: parallel CPU work"
        ),
        Preset("gpu-small", "gpu", 4, 16384, 1, 16384, 900_000, "1 GPU with 16 GB: inference, small training"),
        Preset("gpu-large", "gpu", 16, 131072, 1, 80000, 3_000_000, "1 GPU with 80 GB: training, large models"),
    )
}

DEFAULT_PRESET = "cpu-small"


def resolve(requirements: dict[str, Any] | None) -> tuple[Preset, dict[str, Any]]:
    """The preset a job runs under and its effective minimums (preset values, raised by explicit ones).

    Raises:
      ValidationFailed: `requirements.profile` names no preset.
    """
    requirements = requirements or {}
    name = requirements.get("profile")
    if name is None:
        name = "gpu-small" if requirements.get("gpu_count", 0) > 0 else DEFAULT_PRESET
    preset = PRESETS.get(name)
    if preset is None:
        raise ValidationFailed(
            [field_error("requirements.profile", f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")]
        )
    if requirements.get("gpu_count", 0) > 0 and preset.gpu_count == 0:
        raise ValidationFailed(
            [field_error("requirements.gpu_count", f"the {preset.name} preset has no GPU; choose a gpu-* profile")]
        )
    minimums = {
        "cpu": max(preset.cpu, requirements.get("cpu", 0)),
        "memory_mb": max(preset.memory_mb, requirements.get("memory_mb", 0)),
        "gpu_count": max(preset.gpu_count, requirements.get("gpu_count", 0)),
        "gpu_memory_mb": max(preset.gpu_memory_mb, requirements.get("gpu_memory_mb", 0)),
    }
    return preset, minimums
