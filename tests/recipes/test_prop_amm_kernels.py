"""The integer and curve kernels match the plain-Python reference on seeded inputs (spec §3, §6.2)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from recipes.prop_amm.curve import CONCAVITY, MONOTONICITY, OK, shape_violation
from recipes.prop_amm.pools import f64_to_nano, normalizer_swap
from recipes.prop_amm.u128 import div_u64
from tests.recipes import prop_amm_reference as ref

M64 = 2**64 - 1


def _u(v: int) -> np.uint64:
    return np.uint64(v)


def test_the_normalizer_quotes_the_spec_cp30_values():
    # Given the spec's reserves (100 X, 10,000 Y in nanos) and a 30 bps fee (cp30 = the normalizer at 30 bps)
    rx, ry = _u(100 * 10**9), _u(10_000 * 10**9)
    # When buying with 10 Y and selling 1 X
    # Then the outputs are the spec's
    assert normalizer_swap(0, _u(10 * 10**9), rx, ry, 30) == 99_600_698
    assert normalizer_swap(1, _u(10**9), rx, ry, 30) == 98_715_803_439


def test_the_normalizer_matches_python_integers_on_seeded_inputs():
    # Given 20,000 seeded operands from tiny to u64::MAX, both sides, any fee
    r = random.Random(11)
    cases = []
    for _ in range(20_000):
        a, rx, ry = (min(r.randrange(2 ** r.randint(1, r.choice((24, 48, 64)))), M64) for _ in range(3))
        cases.append((r.randint(0, 1), a, rx, ry, r.randint(0, 9_999)))
    cases += [(0, M64, M64, M64, 0), (1, M64, M64, M64, 30), (0, 1, M64, 1, 9_999), (1, 0, 5, 7, 30)]
    # When the kernel and the reference quote them
    # Then every output is identical
    for side, a, rx, ry, fee in cases:
        assert normalizer_swap(side, _u(a), _u(rx), _u(ry), fee) == ref.normalizer_swap(side, a, rx, ry, fee)


def test_the_128_bit_division_is_exact_when_the_quotient_fits_64_bits():
    # Given seeded dividends q*d + rem below 2^128 with divisors up to 66 bits
    r = random.Random(3)
    for _ in range(20_000):
        d = r.randrange(1, 2 ** r.randint(1, 66))
        q = r.randrange(2**64)
        n = q * d + r.randrange(d)
        if n >= 2**128:
            continue
        # When divided
        # Then the quotient is q
        assert div_u64(_u(n >> 64), _u(n & M64), _u(d >> 64), _u(d & M64)) == q


@pytest.mark.parametrize(
    ("value", "nanos"),
    [(1.0, 1_000_000_000), (1.001, 1_000_999_999), (2.0, 2_000_000_000), (2.001, 2_001_000_000), (0.0, 0),
     (-1.0, 0), (math.nan, 0), (math.inf, M64), (1e11, M64), (1.8e10, 18_000_000_000_000_000_000)],
)  # fmt: skip
def test_nano_encoding_truncates_and_saturates(value, nanos):
    # Given a float amount
    # When it is encoded
    # Then it is truncated toward zero (1.001 -> 999,999 nanos above 1.0) and saturates at u64::MAX
    assert f64_to_nano(value) == nanos == ref.f64_to_nano(value)


def _curve_cases(r: random.Random) -> list[tuple[list[tuple[float, float]], float]]:
    cases = []
    for k in range(3_000):
        n = r.randint(0, 40)
        xs = [r.choice((r.uniform(0.0, 5.0), r.uniform(0.0, 500.0), r.uniform(0.0005, 0.002))) for _ in range(n)]
        shape = k % 4
        if shape == 0:  # concave: constant product
            pts = [(x, 100.0 * x / (10_000.0 + x)) for x in xs]
        elif shape == 1:  # convex
            pts = [(x, x * x / 50.0) for x in xs]
        elif shape == 2:  # noisy: random outputs
            pts = [(x, r.uniform(0.0, 1.0)) for x in xs]
        else:  # concave with near-duplicate inputs and edge values
            pts = [(x, math.sqrt(x)) for x in xs] + [(x + 1e-12, math.sqrt(x) * (1 - 1e-12)) for x in xs[:5]]
            pts += [(math.nan, 1.0), (1.0, math.inf), (2.0, -1.0)]
        r.shuffle(pts)
        cases.append((pts, r.choice((0.001, 0.01, 0.0001))))
    return cases


def test_the_shape_check_matches_the_python_reference_on_seeded_curves():
    # Given 3,000 seeded point sets: concave, convex, random and near-duplicate curves
    r = random.Random(17)
    scratch = np.empty((2, 64), dtype=np.uint64)
    verdicts = set()
    for pts, min_input in _curve_cases(r):
        xs = np.array([p[0] for p in pts] + [0.0] * (64 - len(pts)))
        ys = np.array([p[1] for p in pts] + [0.0] * (64 - len(pts)))
        # When the kernel and the reference check them
        got = shape_violation(xs, ys, len(pts), min_input, scratch)
        # Then they agree
        assert got == ref.shape_violation(pts, min_input), pts
        verdicts.add(got)
    assert verdicts == {OK, MONOTONICITY, CONCAVITY}


def test_the_shape_check_tolerates_a_4_nano_drop_but_not_5():
    # Given a flat-topped curve whose last output drops by 4 nanos, and the same with a 5-nano drop
    xs = np.array([1.0, 2.0, 3.0])
    scratch = np.empty((2, 64), dtype=np.uint64)
    # When checked
    # Then the 4-nano rounding wobble passes and the 5-nano drop is a monotonicity violation
    assert shape_violation(xs, np.array([1.0, 1.5, 1.499999996]), 3, 0.001, scratch) == OK
    assert shape_violation(xs, np.array([1.0, 1.5, 1.499999995]), 3, 0.001, scratch) == MONOTONICITY
