"""The Numba scorer agrees with the slow pure-Python reference on random and near-touching inputs."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from recipes.packing.constants import OVERLAP_TOL, REASONS
from recipes.packing.geometry import pair_area
from recipes.packing.kernels import evaluate, new_areas
from recipes.packing.scoring import PAIRS, round6
from tests.recipes import packing_reference as reference
from tests.recipes.packing_support import GRID, P5_BEST, SEVEN_DISKS, ring_baseline


def _random_candidates(rng: random.Random, count: int, half_width: float) -> list[list[float]]:
    return [
        [
            v
            for _ in range(15)
            for v in (rng.uniform(-half_width, half_width), rng.uniform(-half_width, half_width), rng.uniform(-4, 4))
        ]
        for _ in range(count)
    ]


def _near_touching(rng: random.Random, count: int) -> list[list[float]]:
    """Known tight packings jittered by 1e-6 to 1e-4: many pairs straddle the 1e-6 area tolerance."""
    bases = [GRID, P5_BEST, SEVEN_DISKS, round6(ring_baseline())]
    scales = [1e-6, 1e-5, 3e-5, 6e-5, 1e-4]
    return [[v + rng.gauss(0.0, scales[k % len(scales)]) for v in bases[k % len(bases)]] for k in range(count)]


def _kernel(values: list[float]) -> dict:
    areas = new_areas()
    reason, r, cx, cy, _, _ = evaluate(np.asarray(round6(values)), areas)
    overlaps = {PAIRS[p] for p in range(len(PAIRS)) if areas[p] > OVERLAP_TOL}
    return {"reason": REASONS[reason], "radius": r, "center": (cx, cy), "overlaps": overlaps}


CASES = {
    "dense_random": _random_candidates(random.Random(1), 120, 3.0),
    "sparse_random": _random_candidates(random.Random(2), 60, 9.0),
    "near_touching": _near_touching(random.Random(3), 160),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_kernel_and_reference_agree_on_verdict_overlapping_pairs_and_radius(kind):
    # Given a few hundred candidates of one kind
    disagreements = []
    n_valid = 0
    for values in CASES[kind]:
        # When both scorers score the candidate
        ours = _kernel(values)
        ref = reference.score(values)
        n_valid += ref["valid"]
        # Then the verdict, the overlapping pairs and the radius (1e-9) agree; the centre agrees to 1e-5 only,
        # because near a two-point MEC the radius is second-order in the centre (1e-12 in R ~ 1e-6 in the centre)
        if (
            ours["reason"] != ref["reason"]
            or ours["overlaps"] != {(i, j) for i, j, _ in ref["overlaps"]}
            or abs(ours["radius"] - ref["radius"]) > 1e-9
            or math.dist(ours["center"], ref["center"]) > 1e-5
        ):
            disagreements.append((values, ours, ref))
    assert disagreements == []
    if kind == "near_touching":
        # Both verdicts occur, so the tolerance is really exercised.
        assert 0 < n_valid < len(CASES[kind])


def _contact_distance(a: tuple[float, float, float], direction: float, theta_b: float) -> float:
    """Centre distance along `direction` at which B's overlap area with A crosses 1e-6 (bisection)."""
    lo, hi = 0.0, 2.0
    ux, uy = math.cos(direction), math.sin(direction)
    if pair_area(*a, 2.0 * ux, 2.0 * uy, theta_b) > OVERLAP_TOL or pair_area(*a, 0.0, 0.0, theta_b) <= OVERLAP_TOL:
        return math.nan
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if pair_area(*a, mid * ux, mid * uy, theta_b) > OVERLAP_TOL:
            lo = mid
        else:
            hi = mid
    return hi


def test_pair_areas_agree_with_the_reference_around_the_overlap_threshold():
    # Given random orientations, B pushed towards A along a random direction to just around the 1e-6 threshold
    rng = random.Random(4)
    checked = 0
    for _ in range(150):
        a = (0.0, 0.0, rng.uniform(-math.pi, math.pi))
        direction, theta_b = rng.uniform(-math.pi, math.pi), rng.uniform(-math.pi, math.pi)
        contact = _contact_distance(a, direction, theta_b)
        if math.isnan(contact):
            continue
        for factor in (1 - 1e-3, 1 - 1e-6, 1 + 1e-6, 1 + 1e-3):
            d = contact * factor
            b = (d * math.cos(direction), d * math.sin(direction), theta_b)
            # When both compute the exact area
            ours = pair_area(*a, *b)
            ref = reference.intersection_area(a, b)
            # Then the areas agree to 1e-12 and the verdicts are the same
            assert ours == pytest.approx(ref, abs=1e-12)
            assert (ours > OVERLAP_TOL) == (ref > OVERLAP_TOL)
            checked += 1
    assert checked > 300


def test_pair_areas_agree_with_the_reference_on_random_close_pairs():
    # Given random pairs with centres within 2 of each other
    rng = random.Random(5)
    for _ in range(2000):
        a = (rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-7, 7))
        b = (rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-7, 7))
        # When both compute the area
        # Then they agree to 1e-12
        assert pair_area(*a, *b) == pytest.approx(reference.intersection_area(a, b), abs=1e-12)
