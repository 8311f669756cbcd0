"""Per-seed simulation configuration (spec §4.1): five draws from `Pcg64::seed_from_u64(seed)`, plus fixed values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from recipes.prop_amm import rng

INITIAL_PRICE = 100.0
INITIAL_X = 100.0
INITIAL_Y = 10_000.0
GBM_MU = 0.0
GBM_DT = 1.0
RETAIL_SIZE_SIGMA = 1.2
RETAIL_BUY_PROB = 0.5
MIN_ARB_PROFIT = 0.01
DEFAULT_STEPS = 10_000


@njit(cache=True, error_model="numpy")
def draw_config(seed: np.uint64) -> tuple[float, float, float, int, float]:
    """(gbm_sigma, retail_arrival_rate, retail_mean_size, norm_fee_bps, norm_liquidity_mult) of one seed."""
    st = np.zeros(4, dtype=np.uint64)
    rng.seed_from_u64(seed, st)
    sigma = rng.gen_range_f64(st, 0.0001, 0.007)
    arrival = rng.gen_range_f64(st, 0.4, 1.2)
    mean_size = rng.gen_range_f64(st, 12.0, 28.0)
    fee_bps = rng.gen_range_u16_inclusive(st, 30, 80)
    liquidity_mult = rng.gen_range_f64(st, 0.4, 2.0)
    return sigma, arrival, mean_size, fee_bps, liquidity_mult


@dataclass(frozen=True, slots=True)
class SeedConfig:
    """The randomized parameters of one simulation."""

    seed: int
    gbm_sigma: float
    retail_arrival_rate: float
    retail_mean_size: float
    norm_fee_bps: int
    norm_liquidity_mult: float


def seed_config(seed: int) -> SeedConfig:
    """The configuration the reference draws for `seed` (0 <= seed < 2^64)."""
    sigma, arrival, mean_size, fee_bps, mult = draw_config(np.uint64(seed))
    return SeedConfig(seed, float(sigma), float(arrival), float(mean_size), int(fee_bps), float(mult))
