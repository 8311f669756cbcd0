"""Reference packings: the grid baseline is the optimizers' default start (P3 `solution.json`, R = 3.5)."""

from __future__ import annotations

#: 6 full disks (θ = 0 and π, at 6 dp) at x ∈ {−2, 0, 2}, y ∈ {0, 2}, plus 3 semicircles at y = 3 with θ = π/2.
GRID_BASELINE: tuple[float, ...] = (
    *(v for y in (0.0, 2.0) for x in (-2.0, 0.0, 2.0) for v in (x, y, 0.0, x, y, 3.141593)),
    *(v for x in (-2.0, 0.0, 2.0) for v in (x, 3.0, 1.570796)),
)
