"""The arbitrageur (spec §5): closed form against the normalizer, bracket plus golden section against the submission.

A shape violation is returned as `err = context * 4 + kind` (curve.MONOTONICITY/CONCAVITY), 0 when none.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from recipes.prop_amm import rng
from recipes.prop_amm.config import MIN_ARB_PROFIT
from recipes.prop_amm.curve import shape_violation
from recipes.prop_amm.pools import execute_norm, execute_sub, quote_norm, quote_sub

MIN_INPUT = 0.001
MIN_ARB_NOTIONAL_Y = 0.01
PHI = 0.6180339887498948
GOLDEN_MAX_ITERS = 12
GOLDEN_REL_TOL = 1e-2
BRACKET_MAX_STEPS = 24
BRACKET_GROWTH = 2.0
MAX_INPUT = (18446744073709551615 / 1e9) * 0.999999
#: Search contexts, for error messages (`simulate.CONTEXTS`).
CTX_ARB_BUY, CTX_ARB_SELL = 1, 2


@njit(cache=True, error_model="numpy")
def _objective(side: int, x: float, fair: float, pool, ibuf, fns, pts, cnt) -> float:
    out = quote_sub(side, x, pool, ibuf, fns)
    n = cnt[0]
    pts[0, n] = x
    pts[1, n] = out
    cnt[0] = n + 1
    value = out * fair - x if side == 0 else out - x * fair
    return value if math.isfinite(value) else -math.inf


@njit(cache=True, error_model="numpy")
def _bracket(side, start, min_in, fair, pool, ibuf, fns, pts, cnt):
    lo = max(min_in, MIN_INPUT)
    mid = min(max(start, lo), MAX_INPUT)
    mid_value = _objective(side, mid, fair, pool, ibuf, fns, pts, cnt)
    if mid_value <= 0.0:
        return lo, mid
    hi = min(mid * BRACKET_GROWTH, MAX_INPUT)
    if hi <= mid:
        return lo, mid
    hi_value = _objective(side, hi, fair, pool, ibuf, fns, pts, cnt)
    for _ in range(BRACKET_MAX_STEPS):
        if hi_value <= mid_value or hi >= MAX_INPUT:
            return lo, hi
        lo = mid
        mid = hi
        mid_value = hi_value
        next_hi = min(hi * BRACKET_GROWTH, MAX_INPUT)
        if next_hi <= hi:
            return lo, hi
        hi = next_hi
        hi_value = _objective(side, hi, fair, pool, ibuf, fns, pts, cnt)
    return lo, hi


@njit(cache=True, error_model="numpy")
def _golden(side, lo, hi, fair, pool, ibuf, fns, pts, cnt):
    left = max(min(lo, hi), 0.0)
    right = max(max(hi, lo), MIN_INPUT)
    if right <= left:
        return right
    best_x = left
    best = _objective(side, left, fair, pool, ibuf, fns, pts, cnt)
    value = _objective(side, right, fair, pool, ibuf, fns, pts, cnt)
    if value > best:
        best_x, best = right, value
    x1 = right - PHI * (right - left)
    x2 = left + PHI * (right - left)
    f1 = _objective(side, x1, fair, pool, ibuf, fns, pts, cnt)
    f2 = _objective(side, x2, fair, pool, ibuf, fns, pts, cnt)
    if f1 > best:
        best_x, best = x1, f1
    if f2 > best:
        best_x, best = x2, f2
    for _ in range(GOLDEN_MAX_ITERS):
        if f1 < f2:
            left = x1
            x1, f1 = x2, f2
            x2 = left + PHI * (right - left)
            f2 = _objective(side, x2, fair, pool, ibuf, fns, pts, cnt)
            if f2 > best:
                best_x, best = x2, f2
        else:
            right = x2
            x2, f2 = x1, f1
            x1 = right - PHI * (right - left)
            f1 = _objective(side, x1, fair, pool, ibuf, fns, pts, cnt)
            if f1 > best:
                best_x, best = x1, f1
        mid = 0.5 * (left + right)
        if right - left <= GOLDEN_REL_TOL * max(abs(mid), MIN_INPUT):
            break
    return best_x


@njit(cache=True, error_model="numpy")
def _search(side, start, min_in, fair, pool, ibuf, fns, pts, cnt, scratch, strict):
    """(optimal input, expected profit, err) of one side; profit is -inf when the side is rejected."""
    cnt[0] = 0
    lo, hi = _bracket(side, start, min_in, fair, pool, ibuf, fns, pts, cnt)
    opt = _golden(side, lo, hi, fair, pool, ibuf, fns, pts, cnt)
    if strict:
        kind = shape_violation(pts[0], pts[1], cnt[0], min_in, scratch)
        if kind != 0:
            return opt, -math.inf, (CTX_ARB_BUY + side) * 4 + kind
    if opt < min_in:
        return opt, -math.inf, 0
    out = quote_sub(side, opt, pool, ibuf, fns)
    if out <= 0.0:
        return opt, -math.inf, 0
    profit = out * fair - opt if side == 0 else out - opt * fair
    return opt, (profit if profit >= MIN_ARB_PROFIT else -math.inf), 0


@njit(cache=True, error_model="numpy")
def arb_submission(st, mu_ln, sigma, fair, pool, ibuf, abuf, fns, step, pts, cnt, scratch, strict):
    """One step of arbitrage against the submission: (edge of the executed trade or 0, err).

    Draws exactly one log-normal starting size per step from the arbitrageur's stream, then searches both sides.
    """
    s = max(rng.log_normal(st, mu_ln, sigma), MIN_INPUT)
    start_y = min(max(s, MIN_ARB_NOTIONAL_Y), MAX_INPUT)
    min_sell = max(MIN_INPUT, MIN_ARB_NOTIONAL_Y / fair)
    start_x = min(max(start_y / max(fair, 1e-9), min_sell), MAX_INPUT)
    buy_in, buy_profit, err = _search(0, start_y, MIN_ARB_NOTIONAL_Y, fair, pool, ibuf, fns, pts, cnt, scratch, strict)
    if err != 0:
        return 0.0, err
    sell_in, sell_profit, err = _search(1, start_x, min_sell, fair, pool, ibuf, fns, pts, cnt, scratch, strict)
    if err != 0:
        return 0.0, err
    if sell_profit > buy_profit:
        out_y = execute_sub(1, sell_in, pool, ibuf, abuf, fns, step)
        return (sell_in * fair - out_y if out_y > 0.0 else 0.0), 0
    if buy_profit > -math.inf:
        out_x = execute_sub(0, buy_in, pool, ibuf, abuf, fns, step)
        return (buy_in - out_x * fair if out_x > 0.0 else 0.0), 0
    return 0.0, 0


@njit(cache=True, error_model="numpy")
def arb_normalizer(fair: float, pool: np.ndarray, fee_bps: int) -> None:
    """One step of arbitrage against the normalizer, in closed form (its edge is not scored)."""
    gamma = (10_000.0 - fee_bps) / 10_000.0
    rx = pool[0]
    ry = pool[1]
    if not (math.isfinite(rx) and math.isfinite(ry) and rx > 0.0 and ry > 0.0 and fair > 0.0):
        return
    buy_in = 0.0
    buy_profit = -math.inf
    target = math.sqrt(fair * rx * gamma * ry)
    if target > ry:
        buy_in = min(max((target - ry) / gamma, MIN_ARB_NOTIONAL_Y), MAX_INPUT)
        profit = quote_norm(0, buy_in, pool, fee_bps) * fair - buy_in
        if profit >= MIN_ARB_PROFIT:
            buy_profit = profit
    sell_in = 0.0
    sell_profit = -math.inf
    target = math.sqrt(ry * rx * gamma / fair)
    if target > rx:
        min_sell = max(MIN_INPUT, MIN_ARB_NOTIONAL_Y / fair)
        sell_in = min(max((target - rx) / gamma, min_sell), MAX_INPUT)
        profit = quote_norm(1, sell_in, pool, fee_bps) - sell_in * fair
        if profit >= MIN_ARB_PROFIT:
            sell_profit = profit
    if sell_profit > buy_profit:
        execute_norm(1, sell_in, pool, fee_bps)
    elif buy_profit > -math.inf:
        execute_norm(0, buy_in, pool, fee_bps)
