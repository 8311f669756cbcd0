"""The runtime curve-shape check on the submission's sampled quotes (spec §6.2, `strict_curves`).

Points are (input, output) pairs in tokens. They are quantized to nanos, sorted, merged within 4 nanos, then
checked for monotonicity (4-nano tolerance) and for concavity of consecutive secants at least 1e6 nanos wide.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from recipes.prop_amm.pools import f64_to_nano
from recipes.prop_amm.u128 import ZERO, add128, lt128, mul64

OK, MONOTONICITY, CONCAVITY = 0, 1, 2
MERGE_NANOS = np.uint64(4)
TOL_NANOS = np.uint64(4)
MIN_DX_NANOS = np.uint64(1_000_000)
MAX_POINTS = 64


@njit(cache=True, error_model="numpy")
def _sorted_nanos(xs: np.ndarray, ys: np.ndarray, n: int, min_input: float, qx: np.ndarray, qy: np.ndarray) -> int:
    min_nano = f64_to_nano(min_input)
    m = 0
    for i in range(n):
        x = xs[i]
        y = ys[i]
        if not (math.isfinite(x) and math.isfinite(y) and x > min_input and y >= 0.0):
            continue
        nx = f64_to_nano(x)
        if nx <= min_nano:
            continue
        ny = f64_to_nano(y)
        j = m  # stable insertion: after every point with an input <= nx
        while j > 0 and qx[j - 1] > nx:
            qx[j] = qx[j - 1]
            qy[j] = qy[j - 1]
            j -= 1
        qx[j] = nx
        qy[j] = ny
        m += 1
    return m


@njit(cache=True, error_model="numpy")
def _merge(qx: np.ndarray, qy: np.ndarray, m: int) -> int:
    k = 0
    for i in range(m):
        if k > 0 and qx[i] - qx[k - 1] <= MERGE_NANOS:
            if qy[i] > qy[k - 1]:
                qy[k - 1] = qy[i]
            continue
        qx[k] = qx[i]
        qy[k] = qy[i]
        k += 1
    return k


@njit(cache=True, error_model="numpy")
def shape_violation(xs: np.ndarray, ys: np.ndarray, n: int, min_input: float, scratch: np.ndarray) -> int:
    """OK, MONOTONICITY or CONCAVITY for the first `n` points; `scratch` is a (2, >= n) uint64 array."""
    qx = scratch[0]
    qy = scratch[1]
    k = _merge(qx, qy, _sorted_nanos(xs, ys, n, min_input, qx, qy))
    for i in range(1, k):
        bumped = qy[i] + TOL_NANOS
        if bumped < qy[i]:  # saturating add
            continue
        if bumped < qy[i - 1]:
            return MONOTONICITY
    have_prev = False
    prev_dx = ZERO
    prev_dy = ZERO
    for i in range(1, k):
        dx = qx[i] - qx[i - 1]
        if dx < MIN_DX_NANOS:
            continue
        dy = qy[i] - qy[i - 1] if qy[i] > qy[i - 1] else ZERO
        if have_prev:
            rise = dy - TOL_NANOS if dy > TOL_NANOS else ZERO
            lh, ll = mul64(rise, prev_dx)
            ph, pl = add128(ZERO, prev_dy, ZERO, TOL_NANOS)
            rh, rl = mul64(pl, dx)
            rh = rh + ph * dx
            if lt128(rh, rl, lh, ll):
                return CONCAVITY
        have_prev = True
        prev_dx = dx
        prev_dy = dy
    return OK
