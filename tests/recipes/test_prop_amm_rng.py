"""The random streams reproduce the reference bit for bit (spec §4.6, §9.2) and match the Python reference."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from recipes.prop_amm import libm, rng
from recipes.prop_amm.config import seed_config
from recipes.prop_amm.streams import gbm_path, retail_path
from tests.recipes.prop_amm_reference import Pcg64


def seeded(seed: int) -> np.ndarray:
    st = rng.new_state()
    rng.seed_from_u64(np.uint64(seed), st)
    return st


@pytest.mark.parametrize(
    ("seed", "draws"),
    [
        (0, [2354861276966075475, 6411218084291373563, 13092586260176364081, 718076624554797018]),
        (1, [15492934433077865799, 319104231195455319, 2101115697694094752, 18133442382907303891]),
        (42, [4178418447715145737, 4410739922618931473, 14034899209665866285, 9736923071240364268]),
    ],
)
def test_pcg64_next_u64_reproduces_the_spec_draws(seed, draws):
    # Given Pcg64::seed_from_u64(seed)
    st = seeded(seed)
    # When four u64 are drawn
    # Then they are the reference's
    assert [int(rng.next_u64(st)) for _ in range(4)] == draws


def test_float_normal_poisson_and_lognormal_draws_reproduce_the_spec_vectors():
    # Given fresh generators for seeds 0 and 1
    # When each distribution is sampled
    st = seeded(0)
    floats = [rng.gen_f64(st) for _ in range(4)]
    st = seeded(0)
    normals = [rng.standard_normal(st) for _ in range(6)]
    st = seeded(1)
    poisson = [rng.poisson_small(st, libm.exp(-0.8)) for _ in range(10)]
    st = seeded(1)
    sizes = [rng.log_normal(st, math.log(20) - 0.72, 1.2) for _ in range(4)]
    # Then every value is exactly the reference's
    assert floats == [0.12765728561943035, 0.34755282876335303, 0.709750523336854, 0.03892701181766833]
    assert normals == [
        -1.386617378836326, -0.12451553666344613, 0.9135564350801636,
        -0.8139065376562001, 1.2657462002321063, -0.9861967895387516,
    ]  # fmt: skip
    assert poisson == [1, 0, 2, 0, 0, 1, 0, 2, 0, 0]
    assert sizes == [48.25654895959032, 1.168092629378985, 2.863338372423067, 29.11578076822225]


@pytest.mark.parametrize("seed", [7, 123456789, 2**64 - 1])
def test_the_kernel_generator_matches_the_python_reference(seed):
    # Given the Numba generator and the plain-Python reference on the same seed
    st, ref = seeded(seed), Pcg64(seed)
    # When both draw u64s, then 20,000 standard normals (the tail branch included)
    u64s = [int(rng.next_u64(st)) for _ in range(500)]
    ref_u64s = [ref.next_u64() for _ in range(500)]
    normals = [rng.standard_normal(st) for _ in range(20_000)]
    ref_normals = [ref.standard_normal() for _ in range(20_000)]
    # Then the streams are identical
    assert u64s == ref_u64s
    assert normals == ref_normals
    assert max(abs(z) for z in normals) > 3.0


def test_the_libm_ports_agree_with_the_platform_maths_to_one_ulp():
    # Given seeded arguments over the ranges rand_distr uses (exp of -x^2/2 and log-normal exponents, ln of (0, 1))
    r = random.Random(5)
    exps = [r.uniform(-30.0, 30.0) for _ in range(20_000)] + [0.0, 1e-300, -745.0, 709.7, -0.5]
    logs = [r.random() for _ in range(20_000)] + [1.0, 5e-324, 2.0**-1030, 1e300]
    # When libm's exp and ln are evaluated
    # Then each result is within one ulp of glibc's (msun's exp is not correctly rounded: ~10% differ by one ulp)
    exp_same = sum(libm.exp(x) == math.exp(x) for x in exps)
    assert all(abs(libm.exp(x) - math.exp(x)) <= math.ulp(math.exp(x)) for x in exps)
    assert all(abs(libm.log(x) - math.log(x)) <= math.ulp(math.log(x)) for x in logs)
    assert exp_same > 0.8 * len(exps)
    assert libm.exp(-746.0) == 0.0 and math.isinf(libm.exp(710.0)) and libm.log(0.0) == -math.inf


SPEC_CONFIGS = [
    (0.0009808352707740685, 0.6780422630106824, 23.356008373389663, 65, 1.770006866299878),
    (0.005895128243828881, 0.413838940028457, 13.822427363266666, 64, 1.8214324503853057),
    (0.0005056848588302641, 0.7561234325044406, 16.416114444755603, 48, 1.157024751246392),
    (0.003043208455382458, 0.5811722611165795, 13.786531875027727, 66, 1.2745860252096368),
    (0.0008790817688239057, 0.43855110633294214, 22.687760741714488, 79, 1.8535621535048992),
    (0.0027237424648428633, 0.8635171822932097, 16.26793206837651, 67, 1.5520259862089927),
    (0.00315946015417426, 0.9120932573712671, 14.342591412082328, 80, 1.3026940209002755),
    (0.00010349803074153505, 0.5850637175761907, 26.425456029350812, 33, 1.1867092222444793),
    (0.006621913097756855, 0.9815441101761759, 27.60274832037886, 68, 1.4099537720353785),
    (0.006787949228632111, 0.9289534229582281, 21.993365544372107, 77, 1.764610395279659),
]


@pytest.mark.parametrize("seed", range(10))
def test_per_seed_configurations_are_the_spec_values(seed):
    # Given a seed
    # When its configuration is drawn
    c = seed_config(seed)
    # Then it is exactly the reference's
    assert (c.gbm_sigma, c.retail_arrival_rate, c.retail_mean_size, c.norm_fee_bps, c.norm_liquidity_mult) == (
        SPEC_CONFIGS[seed]
    )


def test_the_price_and_retail_streams_of_seed_0_are_the_spec_values():
    # Given seed 0's configuration
    c = seed_config(0)
    # When its first prices and orders are generated
    prices = gbm_path(np.uint64(0), c.gbm_sigma, 5)
    orders = retail_path(np.uint64(0), c.retail_arrival_rate, c.retail_mean_size, 5)
    # Then they are the reference's (one order per step; is_buy 1.0)
    assert prices.tolist() == [
        99.8640400842389, 99.85179648002574, 99.9412605438049, 99.86146041442166, 99.98546616568781,
    ]  # fmt: skip
    assert orders.tolist() == [
        [0.0, 3.3438077501080543, 0.0],
        [1.0, 3.4023736913136986, 1.0],
        [2.0, 1.0639515185393642, 0.0],
        [3.0, 3.974308237826019, 1.0],
        [4.0, 2.8390051618362335, 0.0],
    ]
