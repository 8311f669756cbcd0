"""Problem constants of the `packing` recipe (spec §3, §4.1, §5), shared by kernels and wrappers."""

from __future__ import annotations

import math

#: Number of unit semicircles in a candidate.
N_SHAPES = 15
#: Values per candidate, interleaved `[x0, y0, θ0, …, x14, y14, θ14]`.
N_VALUES = 3 * N_SHAPES
#: Unordered pairs i < j.
N_PAIRS = N_SHAPES * (N_SHAPES - 1) // 2
#: A pair overlaps iff its intersection area is above this (P3 `OVERLAP_TOL`).
OVERLAP_TOL = 1e-6
#: Each semicircle must lie within the MEC radius plus this (P3 `CONTAINMENT_TOL`).
CONTAINMENT_TOL = 1e-9
#: Welzl's "in circle" slack and the refinement threshold (P3 `compute_mec`).
IN_CIRCLE_EPS = 1e-10
REFINE_EPS = 1e-12
REFINE_ROUNDS = 20
#: Arc samples per semicircle seeding the MEC; with the 2 flat-edge endpoints, 66 points each.
ARC_SAMPLES = 64
SEED_POINTS_PER_SHAPE = ARC_SAMPLES + 2
N_SEED_POINTS = N_SHAPES * SEED_POINTS_PER_SHAPE
#: Room for the points appended by refinement (at most one per shape per round).
MAX_MEC_POINTS = N_SEED_POINTS + REFINE_ROUNDS * N_SHAPES
#: Decimals every value is rounded to before scoring.
DECIMALS = 6
#: |θ| above this draws the `theta_magnitude` warning (degrees given by mistake).
THETA_WARN = 2.0 * math.pi
#: Area lower bound sqrt(15/2) on R (the union's area is 15π/2).
AREA_LOWER_BOUND = math.sqrt(N_SHAPES / 2.0)

#: Reason codes returned by the kernel, in scorer order; index 0 means valid.
REASONS: tuple[str | None, ...] = (None, "non_finite", "overlap", "containment")
VALID, NON_FINITE, OVERLAP, CONTAINMENT = range(4)
