"""Exact half-disk geometry as Numba kernels: pair intersection area, farthest point, MEC (spec §4.1, §5).

A unit half-disk `(x, y, θ)` is `{p : |p − c| ≤ 1, (p − c)·(cos θ, sin θ) ≥ 0}`. Its boundary, counter-clockwise,
is the arc from angle θ − π/2 to θ + π/2, then the flat edge from `c + e` to `c − e`, `e = (cos(θ+π/2), sin(θ+π/2))`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from recipes.packing.constants import (
    ARC_SAMPLES,
    IN_CIRCLE_EPS,
    MAX_MEC_POINTS,
    N_SEED_POINTS,
    N_SHAPES,
    REFINE_EPS,
    REFINE_ROUNDS,
    SEED_POINTS_PER_SHAPE,
)

_PI = math.pi
_HALF_PI = 0.5 * math.pi
_TWO_PI = 2.0 * math.pi

# Unit offsets of the arc samples linspace(−π/2, π/2, 64), rotated by θ per shape: one sin/cos per shape.
_ARC_ANGLES = np.linspace(-_HALF_PI, _HALF_PI, ARC_SAMPLES)
_ARC_COS = np.cos(_ARC_ANGLES)
_ARC_SIN = np.sin(_ARC_ANGLES)
# Fixed seed-point order for Welzl (spec §5: a permutation from a seed-42 generator); only rounding depends on it.
_MEC_ORDER = np.random.default_rng(42).permutation(N_SEED_POINTS).astype(np.int64)


@njit(cache=True)
def _arc_term(cx: float, cy: float, phi1: float, phi2: float) -> float:
    """½∮(x dy − y dx) along the unit circle centred at (cx, cy) from angle phi1 to phi2."""
    return 0.5 * ((phi2 - phi1) + cx * (math.sin(phi2) - math.sin(phi1)) - cy * (math.cos(phi2) - math.cos(phi1)))


@njit(cache=True)
def _sorted_insert(buf, n, value):
    """Insert value into the sorted prefix buf[:n]; returns the new length."""
    k = n
    while k > 0 and buf[k - 1] > value:
        buf[k] = buf[k - 1]
        k -= 1
    buf[k] = value
    return n + 1


@njit(cache=True)
def _arc_inside(cx, cy, t, ox, oy, ot, keep_coincident):
    """Green's-theorem contribution of the arc of half-disk (cx, cy, t) lying inside half-disk (ox, oy, ot).

    The arc is split at its crossings with the other circle and the other flat-edge line; each piece is kept if its
    midpoint is inside. Coincident circles (same centre) are kept for one of the two shapes only, so shared
    boundary is counted once.
    """
    phi0 = t - _HALF_PI
    wx = cx - ox
    wy = cy - oy
    rho2 = wx * wx + wy * wy
    dox = math.cos(ot)
    doy = math.sin(ot)
    bps = np.empty(6)
    bps[0] = 0.0
    bps[1] = _PI
    n = 2
    coincident = rho2 == 0.0
    if not coincident:
        # |c + u(φ) − o| = 1  ⇔  cos(φ − α) = −ρ/2, α the direction of w = c − o.
        rho = math.sqrt(rho2)
        if rho <= 2.0:
            alpha = math.atan2(wy, wx)
            beta = math.acos(-0.5 * rho)
            for s in (alpha + beta, alpha - beta):
                tt = (s - phi0) % _TWO_PI
                if 0.0 < tt < _PI:
                    n = _sorted_insert(bps, n, tt)
    # (c + u(φ) − o)·d_o = 0  ⇔  cos(φ − ot) = −w·d_o.
    sd = wx * dox + wy * doy
    if -1.0 < sd < 1.0:
        gamma = math.acos(-sd)
        for s in (ot + gamma, ot - gamma):
            tt = (s - phi0) % _TWO_PI
            if 0.0 < tt < _PI:
                n = _sorted_insert(bps, n, tt)
    total = 0.0
    for k in range(n - 1):
        a = bps[k]
        b = bps[k + 1]
        if b <= a:
            continue
        m = phi0 + 0.5 * (a + b)
        px = cx + math.cos(m) - ox
        py = cy + math.sin(m) - oy
        in_disk = keep_coincident if coincident else px * px + py * py <= 1.0
        if in_disk and px * dox + py * doy >= 0.0:
            total += _arc_term(cx, cy, phi0 + a, phi0 + b)
    return total


@njit(cache=True)
def _edge_inside(cx, cy, t, ox, oy, ot):
    """Green's-theorem contribution of the flat edge of half-disk (cx, cy, t) lying inside half-disk (ox, oy, ot)."""
    ex = math.cos(t + _HALF_PI)
    ey = math.sin(t + _HALF_PI)
    wx = cx - ox
    wy = cy - oy
    dox = math.cos(ot)
    doy = math.sin(ot)
    # The edge is p(τ) = c + τe, traversed from τ = 1 to τ = −1.
    bps = np.empty(5)
    bps[0] = -1.0
    bps[1] = 1.0
    n = 2
    we = wx * ex + wy * ey
    disc = we * we - (wx * wx + wy * wy - 1.0)
    if disc > 0.0:
        root = math.sqrt(disc)
        for tau in (-we - root, -we + root):
            if -1.0 < tau < 1.0:
                n = _sorted_insert(bps, n, tau)
    ed = ex * dox + ey * doy
    if ed != 0.0:
        tau = -(wx * dox + wy * doy) / ed
        if -1.0 < tau < 1.0:
            n = _sorted_insert(bps, n, tau)
    total = 0.0
    for k in range(n - 1):
        a = bps[k]
        b = bps[k + 1]
        if b <= a:
            continue
        m = 0.5 * (a + b)
        px = wx + m * ex
        py = wy + m * ey
        if px * px + py * py <= 1.0 and px * dox + py * doy >= 0.0:
            # Segment from p(b) to p(a): ½(x_b·y_a − y_b·x_a).
            xb = cx + b * ex
            yb = cy + b * ey
            xa = cx + a * ex
            ya = cy + a * ey
            total += 0.5 * (xb * ya - yb * xa)
    return total


@njit(cache=True)
def pair_area(xa: float, ya: float, ta: float, xb: float, yb: float, tb: float) -> float:
    """Exact area of the intersection of two unit half-disks; 0 when the centres are more than 2 apart.

    Computed in A's frame (A's centre at the origin), where A's flat edge passes through the origin and so
    contributes nothing to ½∮(x dy − y dx): only A's arc, B's arc and B's flat edge, clipped to the other shape,
    are integrated.
    """
    ox = xb - xa
    oy = yb - ya
    if math.hypot(ox, oy) > 2.0:
        return 0.0
    area = _arc_inside(0.0, 0.0, ta, ox, oy, tb, True)
    area += _arc_inside(ox, oy, tb, 0.0, 0.0, ta, False)
    area += _edge_inside(ox, oy, tb, 0.0, 0.0, ta)
    return max(area, 0.0)


@njit(cache=True)
def farthest_point(x: float, y: float, t: float, qx: float, qy: float) -> tuple[float, float]:
    """The point of half-disk (x, y, t) farthest from (qx, qy): an arc point or a flat-edge endpoint (P3)."""
    opt = math.atan2(y - qy, x - qx)
    diff = math.atan2(math.sin(opt - t), math.cos(opt - t))
    bx = 0.0
    by = 0.0
    best = -1.0
    if -_HALF_PI <= diff <= _HALF_PI:
        bx = x + math.cos(opt)
        by = y + math.sin(opt)
        best = (bx - qx) ** 2 + (by - qy) ** 2
    for a in (t - _HALF_PI, t + _HALF_PI):
        px = x + math.cos(a)
        py = y + math.sin(a)
        d = (px - qx) ** 2 + (py - qy) ** 2
        if d > best:
            best = d
            bx = px
            by = py
    return bx, by


@njit(cache=True)
def _circle2(ax, ay, bx, by):
    return 0.5 * (ax + bx), 0.5 * (ay + by), 0.5 * math.hypot(ax - bx, ay - by)


@njit(cache=True)
def _circle3(ax, ay, bx, by, cx, cy):
    d = 2.0 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    if abs(d) < 1e-14:
        # Degenerate (collinear) triple: the largest of the three 2-point circles, as P3 does.
        best = _circle2(ax, ay, bx, by)
        for c in (_circle2(ax, ay, cx, cy), _circle2(bx, by, cx, cy)):
            if c[2] > best[2]:
                best = c
        return best
    a2 = ax * ax + ay * ay
    b2 = bx * bx + by * by
    c2 = cx * cx + cy * cy
    ux = (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d
    uy = (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d
    return ux, uy, math.hypot(ax - ux, ay - uy)


@njit(cache=True)
def _outside(x, y, cx, cy, r):
    # P3's test is hypot(p − c) ≤ r + 1e-10; squared distances give the same verdict up to rounding, faster.
    dx = x - cx
    dy = y - cy
    lim = r + IN_CIRCLE_EPS
    return dx * dx + dy * dy > lim * lim


@njit(cache=True)
def welzl(px: np.ndarray, py: np.ndarray, n: int) -> tuple[float, float, float]:
    """Minimum enclosing circle (cx, cy, r) of the first n points: iterative Welzl, P3's three nested loops."""
    cx = 0.0
    cy = 0.0
    r = 0.0
    for i in range(n):
        if not _outside(px[i], py[i], cx, cy, r):
            continue
        cx, cy, r = px[i], py[i], 0.0
        for j in range(i):
            if not _outside(px[j], py[j], cx, cy, r):
                continue
            cx, cy, r = _circle2(px[i], py[i], px[j], py[j])
            for k in range(j):
                if _outside(px[k], py[k], cx, cy, r):
                    cx, cy, r = _circle3(px[i], py[i], px[j], py[j], px[k], py[k])
    return cx, cy, r


@njit(cache=True)
def mec(cand: np.ndarray) -> tuple[float, float, float]:
    """MEC (cx, cy, r) of the union of the 15 half-disks: Welzl on 990 seed points, then P3's refinement."""
    px = np.empty(MAX_MEC_POINTS)
    py = np.empty(MAX_MEC_POINTS)
    for i in range(N_SHAPES):
        x = cand[3 * i]
        y = cand[3 * i + 1]
        t = cand[3 * i + 2]
        ct = math.cos(t)
        st = math.sin(t)
        base = i * SEED_POINTS_PER_SHAPE
        for k in range(ARC_SAMPLES):
            slot = _MEC_ORDER[base + k]
            px[slot] = x + ct * _ARC_COS[k] - st * _ARC_SIN[k]
            py[slot] = y + st * _ARC_COS[k] + ct * _ARC_SIN[k]
        ex = math.cos(t + _HALF_PI)
        ey = math.sin(t + _HALF_PI)
        slot = _MEC_ORDER[base + ARC_SAMPLES]
        px[slot] = x + ex
        py[slot] = y + ey
        slot = _MEC_ORDER[base + ARC_SAMPLES + 1]
        px[slot] = x - ex
        py[slot] = y - ey
    n = N_SEED_POINTS
    cx, cy, r = welzl(px, py, n)
    fxs = np.empty(N_SHAPES)
    fys = np.empty(N_SHAPES)
    for _ in range(REFINE_ROUNDS):
        added = 0
        for i in range(N_SHAPES):
            fx, fy = farthest_point(cand[3 * i], cand[3 * i + 1], cand[3 * i + 2], cx, cy)
            if math.hypot(fx - cx, fy - cy) > r + REFINE_EPS:
                fxs[added] = fx
                fys[added] = fy
                added += 1
        if added == 0:
            break
        # The new points go first: they lie outside the current circle, so Welzl meets them early and the rerun
        # stays near-linear. The set is P3's enlarged set; only the order (hence rounding) differs.
        px[added : n + added] = px[:n].copy()
        py[added : n + added] = py[:n].copy()
        px[:added] = fxs[:added]
        py[:added] = fys[:added]
        n += added
        cx, cy, r = welzl(px, py, n)
    return cx, cy, r
