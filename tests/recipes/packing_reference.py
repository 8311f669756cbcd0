"""A slow pure-Python `packing` scorer written from the spec, to cross-check the Numba kernels.

It follows P3's `validate_and_score` (spec §4.1) for the MEC: 128 boundary samples per semicircle (64 on the arc,
64 along the flat edge), shuffled with `random.seed(42)`, iterative Welzl, 20 refinement rounds, containment
within 1e-9. Overlap uses the exact intersection area (spec §5), computed differently from the kernel: the
convex intersection's vertices are enumerated, and its area is the vertex polygon's plus the circular segments
of its arc edges.
"""

from __future__ import annotations

import math
import random
from typing import Any

N = 15
OVERLAP_TOL = 1e-6
CONTAINMENT_TOL = 1e-9
_EPS = 1e-9

Shape = tuple[float, float, float]


def shapes_of(values: list[float]) -> list[Shape]:
    """Interleaved 45 values, rounded with Python round(v, 6), as 15 (x, y, θ)."""
    r = [round(v, 6) for v in values]
    return [(r[3 * i], r[3 * i + 1], r[3 * i + 2]) for i in range(N)]


# --- exact pair intersection area -------------------------------------------------------------------------------


def _inside(p: tuple[float, float], s: Shape, eps: float = _EPS) -> bool:
    dx, dy = p[0] - s[0], p[1] - s[1]
    return math.hypot(dx, dy) <= 1.0 + eps and dx * math.cos(s[2]) + dy * math.sin(s[2]) >= -eps


def _corners(s: Shape) -> list[tuple[float, float]]:
    ex, ey = math.cos(s[2] + math.pi / 2), math.sin(s[2] + math.pi / 2)
    return [(s[0] + ex, s[1] + ey), (s[0] - ex, s[1] - ey)]


def _circle_circle(a: Shape, b: Shape) -> list[tuple[float, float]]:
    dx, dy = b[0] - a[0], b[1] - a[1]
    d = math.hypot(dx, dy)
    if d == 0.0 or d > 2.0:
        return []
    h = math.sqrt(max(0.0, 1.0 - (d / 2) ** 2))
    mx, my = a[0] + dx / 2, a[1] + dy / 2
    return [(mx - h * dy / d, my + h * dx / d), (mx + h * dy / d, my - h * dx / d)]


def _circle_line(c: Shape, s: Shape) -> list[tuple[float, float]]:
    """Unit circle of c against the flat-edge line of s (through s's centre, direction e_s)."""
    ex, ey = math.cos(s[2] + math.pi / 2), math.sin(s[2] + math.pi / 2)
    wx, wy = s[0] - c[0], s[1] - c[1]
    b = wx * ex + wy * ey
    disc = b * b - (wx * wx + wy * wy - 1.0)
    if disc < 0:
        return []
    root = math.sqrt(disc)
    return [(s[0] + t * ex, s[1] + t * ey) for t in (-b - root, -b + root)]


def _line_line(a: Shape, b: Shape) -> list[tuple[float, float]]:
    ax, ay = math.cos(a[2] + math.pi / 2), math.sin(a[2] + math.pi / 2)
    bx, by = math.cos(b[2] + math.pi / 2), math.sin(b[2] + math.pi / 2)
    den = ax * by - ay * bx
    if abs(den) < 1e-15:
        return []
    t = ((b[0] - a[0]) * by - (b[1] - a[1]) * bx) / den
    return [(a[0] + t * ax, a[1] + t * ay)]


def _vertices(a: Shape, b: Shape) -> list[tuple[float, float]]:
    points = _corners(a) + _corners(b) + _circle_circle(a, b) + _circle_line(a, b) + _circle_line(b, a)
    points += _line_line(a, b)
    kept: list[tuple[float, float]] = []
    for p in points:
        if _inside(p, a) and _inside(p, b) and all(math.hypot(p[0] - q[0], p[1] - q[1]) > _EPS for q in kept):
            kept.append(p)
    return kept


def _arc_segment(u: tuple[float, float], v: tuple[float, float], a: Shape, b: Shape) -> float:
    """Circular-segment area if the boundary from u to v (counter-clockwise) is an arc of a or b, else 0."""
    for c in (a, b):
        if abs(math.hypot(u[0] - c[0], u[1] - c[1]) - 1.0) > _EPS:
            continue
        if abs(math.hypot(v[0] - c[0], v[1] - c[1]) - 1.0) > _EPS:
            continue
        fu = math.atan2(u[1] - c[1], u[0] - c[0])
        delta = (math.atan2(v[1] - c[1], v[0] - c[0]) - fu) % (2 * math.pi)
        mid = (c[0] + math.cos(fu + delta / 2), c[1] + math.sin(fu + delta / 2))
        if _inside(mid, a) and _inside(mid, b):
            return 0.5 * (delta - math.sin(delta))
    return 0.0


def intersection_area(a: Shape, b: Shape) -> float:
    """Exact area of the intersection of two unit half-disks (0 when the centres are more than 2 apart)."""
    if math.hypot(a[0] - b[0], a[1] - b[1]) > 2.0:
        return 0.0
    verts = _vertices(a, b)
    if len(verts) < 2:
        return 0.0
    mx = sum(p[0] for p in verts) / len(verts)
    my = sum(p[1] for p in verts) / len(verts)
    verts.sort(key=lambda p: math.atan2(p[1] - my, p[0] - mx))
    area = 0.0
    for k, u in enumerate(verts):
        v = verts[(k + 1) % len(verts)]
        area += 0.5 * (u[0] * v[1] - u[1] * v[0]) + _arc_segment(u, v, a, b)
    return max(area, 0.0)


# --- minimum enclosing circle, as P3 ----------------------------------------------------------------------------


def _boundary_points(s: Shape, n: int = 128) -> list[tuple[float, float]]:
    n_arc = n // 2
    n_flat = n - n_arc
    lo = s[2] - math.pi / 2
    arc = [
        (s[0] + math.cos(lo + math.pi * k / (n_arc - 1)), s[1] + math.sin(lo + math.pi * k / (n_arc - 1)))
        for k in range(n_arc)
    ]
    (x1, y1), (x2, y2) = _corners(s)
    flat = [(x1 + (x2 - x1) * k / (n_flat - 1), y1 + (y2 - y1) * k / (n_flat - 1)) for k in range(n_flat)]
    return arc + flat


def _circle2(p: tuple[float, float], q: tuple[float, float]) -> tuple[float, float, float]:
    return (p[0] + q[0]) / 2, (p[1] + q[1]) / 2, math.hypot(p[0] - q[0], p[1] - q[1]) / 2


def _circle3(p, q, s) -> tuple[float, float, float]:
    (ax, ay), (bx, by), (cx, cy) = p, q, s
    d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    if abs(d) < 1e-14:
        return max((_circle2(p, q), _circle2(p, s), _circle2(q, s)), key=lambda c: c[2])
    a2, b2, c2 = ax * ax + ay * ay, bx * bx + by * by, cx * cx + cy * cy
    ux = (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d
    uy = (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d
    return ux, uy, math.hypot(ax - ux, ay - uy)


def welzl(points: list[tuple[float, float]]) -> tuple[float, float, float]:
    """P3's iterative Welzl after `random.seed(42); random.shuffle`."""
    pts = list(points)
    random.Random(42).shuffle(pts)

    def inside(c, p):
        return math.hypot(p[0] - c[0], p[1] - c[1]) <= c[2] + 1e-10

    c = (0.0, 0.0, 0.0)
    for i, pi in enumerate(pts):
        if inside(c, pi):
            continue
        c = (pi[0], pi[1], 0.0)
        for j in range(i):
            if inside(c, pts[j]):
                continue
            c = _circle2(pi, pts[j])
            for k in range(j):
                if not inside(c, pts[k]):
                    c = _circle3(pi, pts[j], pts[k])
    return c


def farthest_point(s: Shape, qx: float, qy: float) -> tuple[float, float]:
    """P3 `farthest_boundary_point_from`."""
    opt = math.atan2(s[1] - qy, s[0] - qx)
    diff = math.atan2(math.sin(opt - s[2]), math.cos(opt - s[2]))
    cands = []
    if -math.pi / 2 <= diff <= math.pi / 2:
        cands.append((s[0] + math.cos(opt), s[1] + math.sin(opt)))
    for a in (s[2] - math.pi / 2, s[2] + math.pi / 2):
        cands.append((s[0] + math.cos(a), s[1] + math.sin(a)))
    return max(cands, key=lambda p: (p[0] - qx) ** 2 + (p[1] - qy) ** 2)


def mec(shapes: list[Shape]) -> tuple[float, float, float]:
    """P3 `compute_mec`: Welzl on the samples, then up to 20 rounds adding each shape's farthest point."""
    points = [p for s in shapes for p in _boundary_points(s)]
    cx, cy, r = welzl(points)
    for _ in range(20):
        new = [f for f in (farthest_point(s, cx, cy) for s in shapes) if math.hypot(f[0] - cx, f[1] - cy) > r + 1e-12]
        if not new:
            break
        points += new
        cx, cy, r = welzl(points)
    return cx, cy, r


# --- the scorer --------------------------------------------------------------------------------------------------


def score(values: list[float]) -> dict[str, Any]:
    """Verdict, radius, centre, overlapping pairs and containment of one 45-vector (after 6-dp rounding)."""
    if not all(math.isfinite(v) for v in values):
        return {"valid": False, "reason": "non_finite", "radius": None, "center": None, "overlaps": []}
    shapes = shapes_of(values)
    overlaps = []
    for i in range(N):
        for j in range(i + 1, N):
            area = intersection_area(shapes[i], shapes[j])
            if area > OVERLAP_TOL:
                overlaps.append((i, j, area))
    cx, cy, r = mec(shapes)
    contained = all(
        math.hypot(f[0] - cx, f[1] - cy) <= r + CONTAINMENT_TOL for f in (farthest_point(s, cx, cy) for s in shapes)
    )
    reason = "overlap" if overlaps else (None if contained else "containment")
    return {
        "valid": reason is None,
        "reason": reason,
        "radius": r,
        "center": (cx, cy),
        "overlaps": overlaps,
        "containment_ok": contained,
    }
