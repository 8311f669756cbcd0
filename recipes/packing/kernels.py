"""The scorer as Numba kernels: one candidate, a batch in parallel, and the feasibility-first order (spec §5).

Numba's on-disk cache (cache=True) keys a function on its own file only: after editing geometry.py, delete
recipes/packing/__pycache__ so the kernels here and in search_kernels.py are recompiled against it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from recipes.packing.constants import (
    CONTAINMENT,
    CONTAINMENT_TOL,
    N_PAIRS,
    N_SHAPES,
    N_VALUES,
    NON_FINITE,
    OVERLAP,
    OVERLAP_TOL,
    VALID,
)
from recipes.packing.geometry import farthest_cs, mec_cs, pair_area_cs

#: Columns of the per-candidate info row written by `evaluate_batch`.
INFO_REASON, INFO_RADIUS, INFO_CX, INFO_CY, INFO_OVERLAP, INFO_CONTAINED = range(6)
INFO_WIDTH = 6


@njit(cache=True)
def evaluate(cand: np.ndarray, areas: np.ndarray) -> tuple[int, float, float, float, float, bool]:
    """Score one rounded 45-vector: (reason, radius, cx, cy, overlap_area, containment_ok).

    `areas` (105) receives every pair's intersection area in (i, j) order. `reason` is the first failing check
    (`constants.REASONS`); radius and centre are computed for every finite candidate.
    """
    for k in range(N_VALUES):
        if not math.isfinite(cand[k]):
            areas[:] = 0.0
            return NON_FINITE, math.nan, math.nan, math.nan, math.nan, False
    cts = np.cos(cand[2::3])
    sts = np.sin(cand[2::3])
    overlap = 0.0
    n_over = 0
    p = 0
    for i in range(N_SHAPES):
        xi, yi, ti = cand[3 * i], cand[3 * i + 1], cand[3 * i + 2]
        for j in range(i + 1, N_SHAPES):
            a = pair_area_cs(xi, yi, ti, cts[i], sts[i], cand[3 * j], cand[3 * j + 1], cand[3 * j + 2], cts[j], sts[j])
            areas[p] = a
            p += 1
            if a > OVERLAP_TOL:
                overlap += a
                n_over += 1
    cx, cy, r = mec_cs(cand, cts, sts)
    contained = True
    for i in range(N_SHAPES):
        fx, fy = farthest_cs(cand[3 * i], cand[3 * i + 1], cts[i], sts[i], cx, cy)
        if not math.hypot(fx - cx, fy - cy) <= r + CONTAINMENT_TOL:
            contained = False
    reason = OVERLAP if n_over > 0 else (VALID if contained else CONTAINMENT)
    return reason, r, cx, cy, overlap, contained


@njit(cache=True, parallel=True)
def evaluate_batch(cands: np.ndarray, info: np.ndarray, areas: np.ndarray) -> None:
    """Score every row of `cands` (n, 45) in parallel into `info` (n, 6) and `areas` (n, 105)."""
    for c in prange(cands.shape[0]):
        reason, r, cx, cy, overlap, contained = evaluate(cands[c], areas[c])
        info[c, INFO_REASON] = reason
        info[c, INFO_RADIUS] = r
        info[c, INFO_CX] = cx
        info[c, INFO_CY] = cy
        info[c, INFO_OVERLAP] = overlap
        info[c, INFO_CONTAINED] = 1.0 if contained else 0.0


@njit(cache=True)
def objective_of(reason: int, radius: float, overlap: float, penalty: float) -> float:
    """`radius + penalty × overlap_area`; +inf for a non-finite candidate so it ranks last."""
    if reason == NON_FINITE:
        return math.inf
    return radius + penalty * overlap


@njit(cache=True)
def better(valid_a: bool, radius_a: float, obj_a: float, valid_b: bool, radius_b: float, obj_b: float) -> bool:
    """Feasibility-first order (spec §2.2): is a strictly better than b?"""
    if valid_a != valid_b:
        return valid_a
    if valid_a:
        return radius_a < radius_b
    return obj_a < obj_b


def new_areas() -> np.ndarray:
    """A pair-area buffer for `evaluate`."""
    return np.zeros(N_PAIRS)
