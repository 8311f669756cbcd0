"""Shared test material for the `packing` recipe: the spec's known configurations and a fake RecipeContext."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from recipes.packing.baselines import GRID_BASELINE


def interleave(shapes: list[tuple[float, float, float]]) -> list[float]:
    return [float(v) for shape in shapes for v in shape]


def ring_baseline() -> list[float]:
    """P3 `baselines.circular_baseline()`, unrounded: ring radius 1/sin(π/15) + 0.1, θ = the ring angle."""
    step = 2 * math.pi / 15
    ring = 1.0 / math.sin(math.pi / 15) + 0.1
    return interleave([(ring * math.cos(i * step), ring * math.sin(i * step), i * step) for i in range(15)])


GRID = list(GRID_BASELINE)
SPREAD = interleave([(10.0 * i, 0.0, 0.0) for i in range(15)])
SEVEN_DISKS = interleave(
    [(0.0, 0.0, 0.0), (0.0, 0.0, 3.141593)]
    + [
        (round(2 * math.cos(k * math.pi / 3), 6), round(2 * math.sin(k * math.pi / 3), 6), theta)
        for k in range(6)
        for theta in (0.0, 3.141593)
    ]
    + [(4.0, 0.0, 0.0)]
)
#: P5 `best_solution.json` @ 00a8cdd (θ beyond π on purpose: the scorer takes any angle).
P5_BEST = interleave(
    [
        (-1.039414, 1.356014, 5.478046),
        (1.885657, 0.900366, 2.654461),
        (-0.682273, -0.613727, 0.282272),
        (-0.457847, 1.915188, 2.335806),
        (-2.399431, 1.435678, 5.743893),
        (-0.625362, -1.861505, 5.39233),
        (2.562778, -1.093721, 2.738716),
        (1.814753, 0.765768, 5.796001),
        (0.925513, 1.728665, 1.789045),
        (0.843043, 0.680002, 2.997234),
        (0.705797, -1.838794, 5.610774),
        (-1.947649, -0.293922, 3.860911),
        (-1.757824, -0.510603, 0.71927),
        (1.24457, -1.151553, 2.475229),
        (-1.497006, -1.280118, 4.744179),
    ]
)
#: 15 semicircles at the origin with θ = 0.1·i (P3 test): overlapping.
PILED = interleave([(0.0, 0.0, 0.1 * i) for i in range(15)])


class FakeContext:
    """A RecipeContext for tests: a deadline, an output dir, recorded progress and artifacts in a tmp dir."""

    def __init__(self, tmp_path: Path, timeout_s: float = 300.0) -> None:
        self.deadline = time.monotonic() + timeout_s
        self.output_dir = tmp_path / "out"
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.progress_calls: list[dict[str, Any]] = []
        self._artifacts = tmp_path / "artifacts"
        self._artifacts.mkdir(parents=True, exist_ok=True)

    def progress(self, **fields: Any) -> None:
        self.progress_calls.append(fields)

    def artifact_path(self, ref: str) -> Path:
        return self._artifacts / ref

    def add_artifact(self, ref: str, content: Any) -> str:
        """Store `content` as the JSON artifact `ref`; returns ref."""
        (self._artifacts / ref).write_text(json.dumps(content), encoding="utf-8")
        return ref
