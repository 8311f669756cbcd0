"""The Numba scorer against the spec's unit vectors (§8) and known configurations (§7)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recipes.packing.constants import NON_FINITE, OVERLAP, OVERLAP_TOL, VALID
from recipes.packing.geometry import farthest_point, pair_area, welzl
from recipes.packing.kernels import evaluate, new_areas
from recipes.packing.scoring import round6
from tests.recipes.packing_support import GRID, P5_BEST, PILED, SEVEN_DISKS, SPREAD, ring_baseline

PI = math.pi

# (A, B, overlaps?) from spec §8, unrounded inputs.
PAIR_VECTORS = [
    ((0, 0, 0), (0, 0, PI / 4), True),
    ((0, 0, 0), (0, 0, PI), False),
    ((0, 0, 0), (0, 0, 3.141593), False),
    ((0, 0, PI / 2), (0, 0, -PI / 2), False),
    ((0, 0, 0), (2, 0, PI), False),
    ((0, 0, 0), (1.99995, 0, PI), False),
    ((0, 0, 0), (1.9999, 0, PI), True),
    ((0, 0, 0), (1.999, 0, PI), True),
    ((0, 0, 0), (2.001, 0, PI), False),
    ((0, 0, 0), (1.5, 0, PI), True),
    ((0, 0, 0), (0.1, 0.1, 0), True),
    ((0, 0, PI / 4), (0.5, 0.5, 5 * PI / 4), True),
    ((-0.2224, -0.4517, 3.0167), (-0.7929, 0.0007, 2.2313), True),
    ((-0.758, 5.119, 88.624), (-0.439, 4.320, 24.102), True),
]


def _score(values: list[float]) -> tuple[int, float, float, float, float, bool]:
    return evaluate(np.asarray(values, dtype=np.float64), new_areas())


@pytest.mark.parametrize(("a", "b", "overlaps"), PAIR_VECTORS)
def test_pair_overlap_verdict_matches_every_spec_vector_in_both_orders(a, b, overlaps):
    # Given two semicircles from the spec's overlap table
    # When the kernel computes their intersection area both ways round
    forward = pair_area(*map(float, a), *map(float, b))
    backward = pair_area(*map(float, b), *map(float, a))
    # Then the verdict (area above 1e-6) is the spec's, and the area does not depend on the order
    assert (forward > OVERLAP_TOL) is overlaps
    assert (backward > OVERLAP_TOL) is overlaps
    assert forward == pytest.approx(backward, abs=1e-13)


def test_pair_area_equals_closed_forms_for_a_rotated_copy_and_a_lens():
    # Given a half-disk and its copy rotated by π/4 about the same centre, and two arcs facing at distance 1.5
    # When the areas are computed
    sector = pair_area(0.0, 0.0, 0.0, 0.0, 0.0, PI / 4)
    lens = pair_area(0.0, 0.0, 0.0, 1.5, 0.0, PI)
    # Then they are the 135° sector and the symmetric circular lens
    half_angle = math.acos(0.75)
    assert sector == pytest.approx(3 * PI / 8, abs=1e-14)
    assert lens == pytest.approx(2 * (half_angle - math.sin(half_angle) * math.cos(half_angle)), abs=1e-14)


def test_identical_half_disks_intersect_in_their_whole_area():
    # Given a half-disk and itself
    # When the area is computed
    # Then it is π/2 (coincident boundary counted once)
    assert pair_area(0.3, -0.2, 1.0, 0.3, -0.2, 1.0) == pytest.approx(PI / 2, abs=1e-14)


@pytest.mark.parametrize(
    ("query", "expected"),
    [((-10.0, 0.0), [(1.0, 0.0)]), ((10.0, 0.0), [(0.0, 1.0), (0.0, -1.0)]), ((-5.0, -5.0), [(0.5**0.5, 0.5**0.5)])],
)
def test_farthest_boundary_point_matches_the_spec_table(query, expected):
    # Given the semicircle (0, 0, 0) and a query point
    # When its farthest boundary point is found
    fx, fy = farthest_point(0.0, 0.0, 0.0, *query)
    # Then it is the expected point (either endpoint when both are equally far)
    assert any(math.hypot(fx - ex, fy - ey) < 1e-12 for ex, ey in expected)


@pytest.mark.parametrize(
    ("points", "center", "radius"),
    [([(1.0, 2.0)], (1.0, 2.0), 0.0), ([(0.0, 0.0), (2.0, 0.0)], (1.0, 0.0), 1.0)]
    + [([(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)], (0.0, 0.0), 2**0.5)],
)
def test_welzl_finds_the_spec_minimum_enclosing_circles(points, center, radius):
    # Given the spec's MEC point sets
    px = np.array([p[0] for p in points])
    py = np.array([p[1] for p in points])
    # When Welzl runs
    cx, cy, r = welzl(px, py, len(points))
    # Then centre and radius are the spec's
    assert (cx, cy, r) == pytest.approx((*center, radius), abs=1e-12)


@pytest.mark.parametrize(
    ("values", "radius", "center"),
    [
        (GRID, 3.5, (0.0, 1.5)),
        (SPREAD, 70.50354609929077, (70.49645390070921, 0.0)),
        (SEVEN_DISKS, 4.0, (1.0, 0.0)),
        (P5_BEST, 2.969702623775271, (0.0, 0.0)),
    ],
    ids=["grid", "spread", "seven_disks", "p5_best"],
)
def test_known_valid_configurations_score_the_p3_radius_within_1e9(values, radius, center):
    # Given a configuration from spec §7, rounded to 6 dp as the scorer requires
    # When it is scored
    reason, r, cx, cy, overlap, contained = _score(round6(values))
    # Then it is valid, with the P3 radius to 1e-9 and the P3 centre (P5's is only "≈ 0" in the spec)
    assert reason == VALID and contained and overlap == 0.0
    assert r == pytest.approx(radius, abs=1e-9)
    assert (cx, cy) == pytest.approx(center, abs=1e-9 if values is not P5_BEST else 1e-5)


def test_ring_baseline_scores_the_p3_radius_within_1e9():
    # Given P3's circular baseline as constructed (the spec's figure is the unrounded ring: 1/sin(π/15) + 1.1)
    # When the kernel scores it without rounding
    reason, r, cx, cy, _, _ = _score(ring_baseline())
    # Then it is valid with R = 5.909734344744132 at the origin
    assert reason == VALID
    assert r == pytest.approx(5.909734344744132, abs=1e-9)
    assert (cx, cy) == pytest.approx((0.0, 0.0), abs=1e-9)


def test_seven_full_disks_alone_have_the_rounded_hexagon_radius():
    # Given only the 7 full disks of the hexagonal configuration (the last semicircle moved onto the first disk)
    values = round6(SEVEN_DISKS[:42] + [0.0, 0.0, PI / 2])
    # When the MEC is computed
    _, r, _, _, _, _ = _score(values)
    # Then it is the spec's 3.000000166650243 (the hexagon's 3 plus the effect of rounding)
    assert r == pytest.approx(3.000000166650243, abs=1e-9)


def test_piled_semicircles_are_invalid_for_overlap_but_still_get_a_radius():
    # Given 15 semicircles at the origin with θ = 0.1·i
    # When scored
    areas = new_areas()
    reason, r, _, _, overlap, _ = evaluate(np.asarray(round6(PILED)), areas)
    # Then the verdict is overlap, the overlap area is the sum of the listed pairs, and R is still computed
    assert reason == OVERLAP
    assert overlap == pytest.approx(float(areas[areas > OVERLAP_TOL].sum()), rel=1e-12)
    assert r == pytest.approx(1.0, abs=0.05)


def test_a_non_finite_value_is_reported_before_any_geometry():
    # Given the grid baseline with one NaN
    values = list(GRID)
    values[4] = math.nan
    # When scored
    reason, r, _, _, _, contained = _score(values)
    # Then the reason is non_finite and no radius is produced
    assert reason == NON_FINITE and math.isnan(r) and not contained


def test_a_touching_pair_within_the_area_tolerance_does_not_invalidate_a_packing():
    # Given the grid baseline with one bottom disk pushed 4e-5 into its neighbour (lens area below 1e-6)
    values = list(GRID)
    values[0] = values[3] = -2.0 + 4e-5
    # When scored
    areas = new_areas()
    reason, _, _, _, _, _ = evaluate(np.asarray(values), areas)
    # Then the packing is valid although the pair's true area is positive
    assert reason == VALID
    assert 0.0 < areas.max() <= OVERLAP_TOL
