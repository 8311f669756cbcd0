"""The order router (spec §6.1): a golden-section search over the submission's share alpha of each retail order,
with the reference's three early-stop rules, then execution of the submission leg before the normalizer leg.
"""

from __future__ import annotations

import math

from numba import njit

from recipes.prop_amm.curve import shape_violation
from recipes.prop_amm.pools import execute_norm, execute_sub, quote_norm, quote_sub

MIN_TRADE_SIZE = 0.001
PHI = 0.6180339887498948
GOLDEN_MAX_ITERS = 14
ALPHA_TOL = 1e-3
SIZE_REL_TOL = 1e-2
SCORE_REL_GAP_TOL = 1e-2
#: Search contexts, for error messages (`simulate.CONTEXTS`).
CTX_ROUTER_BUY, CTX_ROUTER_SELL = 3, 4


@njit(cache=True, error_model="numpy")
def _split(side, total, alpha, sub, ibuf, fns, norm, fee_bps, pts, cnt):
    """(in_sub, in_norm, out_sub, out_norm, score) of the split alpha; the submission point is recorded."""
    a = min(max(alpha, 0.0), 1.0)
    in_sub = total * a
    in_norm = total * (1.0 - a)
    out_sub = quote_sub(side, in_sub, sub, ibuf, fns) if in_sub > MIN_TRADE_SIZE else 0.0
    out_norm = quote_norm(side, in_norm, norm, fee_bps) if in_norm > MIN_TRADE_SIZE else 0.0
    n = cnt[0]
    pts[0, n] = in_sub
    pts[1, n] = out_sub
    cnt[0] = n + 1
    score = out_sub + out_norm
    return in_sub, in_norm, out_sub, out_norm, (score if math.isfinite(score) else -math.inf)


@njit(cache=True, error_model="numpy")
def _within_rel_gap(a: float, b: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= SCORE_REL_GAP_TOL * max(abs(a), abs(b), 1e-12)


@njit(cache=True, error_model="numpy")
def _maximize_split(side, total, sub, ibuf, fns, norm, fee_bps, pts, cnt):
    left = 0.0
    right = 1.0
    best = _split(side, total, left, sub, ibuf, fns, norm, fee_bps, pts, cnt)
    q = _split(side, total, right, sub, ibuf, fns, norm, fee_bps, pts, cnt)
    if q[4] > best[4]:
        best = q
    x1 = right - PHI * (right - left)
    x2 = left + PHI * (right - left)
    q1 = _split(side, total, x1, sub, ibuf, fns, norm, fee_bps, pts, cnt)
    q2 = _split(side, total, x2, sub, ibuf, fns, norm, fee_bps, pts, cnt)
    if q1[4] > best[4]:
        best = q1
    if q2[4] > best[4]:
        best = q2
    for _ in range(GOLDEN_MAX_ITERS):
        if right - left <= ALPHA_TOL:
            break
        if total * (right - left) <= SIZE_REL_TOL * max(total * (left + right) / 2.0, MIN_TRADE_SIZE):
            break
        if _within_rel_gap(q1[4], q2[4]):
            break
        if q1[4] < q2[4]:
            left = x1
            x1, q1 = x2, q2
            x2 = left + PHI * (right - left)
            q2 = _split(side, total, x2, sub, ibuf, fns, norm, fee_bps, pts, cnt)
            if q2[4] > best[4]:
                best = q2
        else:
            right = x2
            x2, q2 = x1, q1
            x1 = right - PHI * (right - left)
            q1 = _split(side, total, x1, sub, ibuf, fns, norm, fee_bps, pts, cnt)
            if q1[4] > best[4]:
                best = q1
    q = _split(side, total, (left + right) * 0.5, sub, ibuf, fns, norm, fee_bps, pts, cnt)
    if q[4] > best[4]:
        best = q
    return best


@njit(cache=True, error_model="numpy")
def route_order(is_buy, size, fair, sub, ibuf, abuf, fns, step, norm, fee_bps, pts, cnt, scratch, strict):
    """Route one retail order: (edge of the submission's fill or 0, err as in arb.py)."""
    side = 0 if is_buy else 1
    total = size if is_buy else size / fair
    cnt[0] = 0
    in_sub, in_norm, out_sub, out_norm, _ = _maximize_split(side, total, sub, ibuf, fns, norm, fee_bps, pts, cnt)
    if strict:
        kind = shape_violation(pts[0], pts[1], cnt[0], MIN_TRADE_SIZE, scratch)
        if kind != 0:
            return 0.0, (CTX_ROUTER_BUY + side) * 4 + kind
    edge = 0.0
    if in_sub > MIN_TRADE_SIZE and out_sub > 0.0:
        out = execute_sub(side, in_sub, sub, ibuf, abuf, fns, step)
        if out > 0.0:
            edge = in_sub - out * fair if is_buy else in_sub * fair - out
    if in_norm > MIN_TRADE_SIZE and out_norm > 0.0:
        execute_norm(side, in_norm, norm, fee_bps)
    return edge, 0
