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
# Every 7th arc sample (0, 7, …, 63, both ends included) starts in Welzl's working set, with the endpoints.
_START_STRIDE = 7


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
def _arc_inside(cx, cy, t, ox, oy, ot, dox, doy, keep_coincident):
    """Green's-theorem contribution of the arc of half-disk (cx, cy, t) lying inside half-disk (ox, oy, ot).

    (dox, doy) = (cos ot, sin ot). The arc is split at its crossings with the other circle and the other
    flat-edge line; each piece is kept if its midpoint is inside. Coincident circles (same centre) are kept for
    one of the two shapes only, so shared boundary is counted once.
    """
    phi0 = t - _HALF_PI
    wx = cx - ox
    wy = cy - oy
    rho2 = wx * wx + wy * wy
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
    run_start = -1.0  # start of the current run of kept pieces; runs are integrated at once (the terms telescope)
    for k in range(n - 1):
        a = bps[k]
        b = bps[k + 1]
        keep = False
        if b > a:
            m = phi0 + 0.5 * (a + b)
            px = cx + math.cos(m) - ox
            py = cy + math.sin(m) - oy
            in_disk = keep_coincident if coincident else px * px + py * py <= 1.0
            keep = in_disk and px * dox + py * doy >= 0.0
        if keep and run_start < 0.0:
            run_start = a
        elif not keep and run_start >= 0.0:
            total += _arc_term(cx, cy, phi0 + run_start, phi0 + a)
            run_start = -1.0
    if run_start >= 0.0:
        total += _arc_term(cx, cy, phi0 + run_start, phi0 + bps[n - 1])
    return total


@njit(cache=True)
def _edge_inside(cx, cy, ct, st, ox, oy, dox, doy):
    """Green's-theorem contribution of the flat edge of half-disk (cx, cy, θ) lying inside half-disk (ox, oy, ·).

    (ct, st) = (cos θ, sin θ) and (dox, doy) the other shape's direction.
    """
    ex = -st  # e = (cos(θ + π/2), sin(θ + π/2))
    ey = ct
    wx = cx - ox
    wy = cy - oy
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
            total += 0.5 * ((cx + b * ex) * (cy + a * ey) - (cy + b * ey) * (cx + a * ex))
    return total


@njit(cache=True)
def _reach(ct, st, dx, dy):
    """max over the half-disk centred at the origin with direction (ct, st) of p·(dx, dy), for a unit (dx, dy)."""
    if dx * ct + dy * st >= 0.0:
        return 1.0  # the arc point in direction d belongs to the half-disk
    return abs(dy * ct - dx * st)  # else a flat-edge endpoint ±(−sin θ, cos θ)


@njit(cache=True)
def pair_area_cs(xa, ya, ta, ca, sa, xb, yb, tb, cb, sb):
    """`pair_area` with (cos θ, sin θ) of both shapes precomputed."""
    ox = xb - xa
    oy = yb - ya
    if math.hypot(ox, oy) > 2.0:
        return 0.0
    # Exact zero, cheaply, when one shape lies behind the other's flat-edge line (common in tight packings).
    if ox * ca + oy * sa + _reach(cb, sb, ca, sa) <= 0.0 or -(ox * cb + oy * sb) + _reach(ca, sa, cb, sb) <= 0.0:
        return 0.0
    area = _arc_inside(0.0, 0.0, ta, ox, oy, tb, cb, sb, True)
    area += _arc_inside(ox, oy, tb, 0.0, 0.0, ta, ca, sa, False)
    area += _edge_inside(ox, oy, cb, sb, 0.0, 0.0, ca, sa)
    return max(area, 0.0)


@njit(cache=True)
def pair_area(xa: float, ya: float, ta: float, xb: float, yb: float, tb: float) -> float:
    """Exact area of the intersection of two unit half-disks; 0 when the centres are more than 2 apart.

    Computed in A's frame (A's centre at the origin), where A's flat edge passes through the origin and so
    contributes nothing to ½∮(x dy − y dx): only A's arc, B's arc and B's flat edge, clipped to the other shape,
    are integrated.
    """
    return pair_area_cs(xa, ya, ta, math.cos(ta), math.sin(ta), xb, yb, tb, math.cos(tb), math.sin(tb))


@njit(cache=True)
def farthest_cs(x, y, ct, st, qx, qy):
    """`farthest_point` with (cos θ, sin θ) precomputed, without trigonometry.

    P3 takes the arc point in the direction from q to the centre when that direction is within ±π/2 of θ, i.e.
    when it has a non-negative dot product with (cos θ, sin θ); otherwise, or if farther, an endpoint.
    """
    dx = x - qx
    dy = y - qy
    d = math.hypot(dx, dy)
    ux, uy = (dx / d, dy / d) if d > 0.0 else (1.0, 0.0)  # P3: atan2(0, 0) = 0
    bx = 0.0
    by = 0.0
    best = -1.0
    if ux * ct + uy * st >= 0.0:
        bx = x + ux
        by = y + uy
        best = (bx - qx) ** 2 + (by - qy) ** 2
    for sign in (-1.0, 1.0):  # endpoints at θ ∓ π/2: c ∓ (−sin θ, cos θ)
        px = x - sign * st
        py = y + sign * ct
        dd = (px - qx) ** 2 + (py - qy) ** 2
        if dd > best:
            best = dd
            bx = px
            by = py
    return bx, by


@njit(cache=True)
def farthest_point(x: float, y: float, t: float, qx: float, qy: float) -> tuple[float, float]:
    """The point of half-disk (x, y, t) farthest from (qx, qy): an arc point or a flat-edge endpoint (P3)."""
    return farthest_cs(x, y, math.cos(t), math.sin(t), qx, qy)


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
def welzl(px: np.ndarray, py: np.ndarray, n: int) -> tuple[float, float, float]:
    """Minimum enclosing circle (cx, cy, r) of the first n points: iterative Welzl, P3's three nested loops.

    P3's test is hypot(p − c) ≤ r + 1e-10; comparing squared distances gives the same verdict up to rounding,
    several times faster.
    """
    cx = 0.0
    cy = 0.0
    r = 0.0
    lim = IN_CIRCLE_EPS**2
    for i in range(n):
        dx = px[i] - cx
        dy = py[i] - cy
        if dx * dx + dy * dy <= lim:
            continue
        cx, cy, r = px[i], py[i], 0.0
        lim = IN_CIRCLE_EPS**2
        for j in range(i):
            dx = px[j] - cx
            dy = py[j] - cy
            if dx * dx + dy * dy <= lim:
                continue
            cx, cy, r = _circle2(px[i], py[i], px[j], py[j])
            lim = (r + IN_CIRCLE_EPS) ** 2
            for k in range(j):
                dx = px[k] - cx
                dy = py[k] - cy
                if dx * dx + dy * dy > lim:
                    cx, cy, r = _circle3(px[i], py[i], px[j], py[j], px[k], py[k])
                    lim = (r + IN_CIRCLE_EPS) ** 2
    return cx, cy, r


@njit(cache=True)
def _seed_points(cand, cts, sts):
    """The 990 seed points in their fixed order, and which of them start in the working set."""
    sx = np.empty(N_SEED_POINTS)
    sy = np.empty(N_SEED_POINTS)
    working = np.zeros(N_SEED_POINTS, dtype=np.bool_)
    for i in range(N_SHAPES):
        x = cand[3 * i]
        y = cand[3 * i + 1]
        ct = cts[i]
        st = sts[i]
        base = i * SEED_POINTS_PER_SHAPE
        for k in range(ARC_SAMPLES):
            slot = _MEC_ORDER[base + k]
            sx[slot] = x + ct * _ARC_COS[k] - st * _ARC_SIN[k]
            sy[slot] = y + st * _ARC_COS[k] + ct * _ARC_SIN[k]
            working[slot] = k % _START_STRIDE == 0
        for k, sign in enumerate((1.0, -1.0)):  # flat-edge endpoints c ± (−sin θ, cos θ)
            slot = _MEC_ORDER[base + ARC_SAMPLES + k]
            sx[slot] = x - sign * st
            sy[slot] = y + sign * ct
            working[slot] = True
    return sx, sy, working


@njit(cache=True)
def mec_cs(cand: np.ndarray, cts: np.ndarray, sts: np.ndarray) -> tuple[float, float, float]:
    """`mec` with (cos θ, sin θ) of every shape precomputed.

    The circle is the MEC of the seed points plus P3's refinement points, found without running Welzl on all of
    them each time: Welzl runs on a working set (the endpoints and every 7th arc sample to start with), seeds
    found outside its circle join the set and Welzl reruns, and only once every seed is inside does a refinement
    round add each shape's farthest point beyond r + 1e-12. A circle enclosing every point is the MEC of them all,
    so the result is the full set's MEC; new points go first, which keeps each rerun near-linear.
    """
    sx, sy, working = _seed_points(cand, cts, sts)
    px = np.empty(MAX_MEC_POINTS)  # the working set, filled from the back
    py = np.empty(MAX_MEC_POINTS)
    start = MAX_MEC_POINTS
    for slot in range(N_SEED_POINTS - 1, -1, -1):
        if working[slot]:
            start -= 1
            px[start] = sx[slot]
            py[start] = sy[slot]
    cx, cy, r = welzl(px[start:], py[start:], MAX_MEC_POINTS - start)
    far_x = np.empty(N_SHAPES)
    far_y = np.empty(N_SHAPES)
    far_d = np.empty(N_SHAPES)
    rounds = 0
    while True:
        for i in range(N_SHAPES):
            far_x[i], far_y[i] = farthest_cs(cand[3 * i], cand[3 * i + 1], cts[i], sts[i], cx, cy)
            far_d[i] = math.hypot(far_x[i] - cx, far_y[i] - cy)
        # Seeds outside the circle join the working set. A shape's seeds are no farther than its farthest point,
        # so only shapes reaching beyond the circle are searched.
        lim = (r + IN_CIRCLE_EPS) ** 2
        grew = False
        for i in range(N_SHAPES):
            if far_d[i] <= r + IN_CIRCLE_EPS:
                continue
            for k in range(SEED_POINTS_PER_SHAPE):
                slot = _MEC_ORDER[i * SEED_POINTS_PER_SHAPE + k]
                if not working[slot] and (sx[slot] - cx) ** 2 + (sy[slot] - cy) ** 2 > lim:
                    working[slot] = True
                    start -= 1
                    px[start] = sx[slot]
                    py[start] = sy[slot]
                    grew = True
        if grew:
            cx, cy, r = welzl(px[start:], py[start:], MAX_MEC_POINTS - start)
            continue
        # P3's refinement round: each shape's farthest point beyond r + 1e-12 is added.
        if rounds == REFINE_ROUNDS:
            break
        added = 0
        for i in range(N_SHAPES):
            if far_d[i] > r + REFINE_EPS:
                start -= 1
                px[start] = far_x[i]
                py[start] = far_y[i]
                added += 1
        if added == 0:
            break
        rounds += 1
        ncx, ncy, nr = welzl(px[start:], py[start:], MAX_MEC_POINTS - start)
        if ncx == cx and ncy == cy and nr == r:
            break  # a fixpoint: the points added lie within Welzl's 1e-10 slack, and further rounds repeat them
        cx, cy, r = ncx, ncy, nr
    return cx, cy, r


@njit(cache=True)
def mec(cand: np.ndarray) -> tuple[float, float, float]:
    """MEC (cx, cy, r) of the union of the 15 half-disks: of 990 boundary samples and P3's refinement points."""
    return mec_cs(cand, np.cos(cand[2::3]), np.sin(cand[2::3]))
