"""The price and retail streams (spec §4.4–4.5): GBM steps and Poisson/log-normal retail orders."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from recipes.prop_amm import libm, rng
from recipes.prop_amm.config import GBM_DT, GBM_MU, RETAIL_BUY_PROB, RETAIL_SIZE_SIGMA


@njit(cache=True, error_model="numpy")
def gbm_step(st: np.ndarray, price: float, sigma: float) -> float:
    """S * exp((mu - sigma^2/2) dt + sigma sqrt(dt) Z), with std's (glibc) exp as the reference's engine uses."""
    z = rng.standard_normal(st)
    drift = (GBM_MU - 0.5 * sigma * sigma) * GBM_DT
    return price * math.exp(drift + sigma * math.sqrt(GBM_DT) * z)


@njit(cache=True, error_model="numpy")
def size_params(mean_size: float) -> tuple[float, float]:
    """(mu_ln, sigma) of the log-normal order size whose mean is `mean_size` (std's ln)."""
    sigma = max(RETAIL_SIZE_SIGMA, 0.01)
    return math.log(max(mean_size, 0.01)) - 0.5 * sigma * sigma, sigma


@njit(cache=True, error_model="numpy")
def poisson_threshold(arrival_rate: float) -> float:
    """exp(-lambda) as rand_distr's Poisson::new computes it (libm), for lambda = max(rate, 0.01)."""
    return libm.exp(-max(arrival_rate, 0.01))


@njit(cache=True, error_model="numpy")
def order_count(st: np.ndarray, threshold: float) -> int:
    """How many retail orders arrive this step."""
    return rng.poisson_small(st, threshold)


@njit(cache=True, error_model="numpy")
def next_order(st: np.ndarray, mu_ln: float, sigma: float) -> tuple[float, bool]:
    """(size in Y, is_buy) of the next order: the size draw comes first."""
    size = rng.log_normal(st, mu_ln, sigma)
    return size, rng.gen_f64(st) < RETAIL_BUY_PROB


@njit(cache=True, error_model="numpy")
def gbm_path(seed: np.uint64, sigma: float, steps: int) -> np.ndarray:
    """The first `steps` fair prices of a seed's price stream (for tests and traces)."""
    st = np.zeros(4, dtype=np.uint64)
    rng.seed_from_u64(seed, st)
    out = np.empty(steps)
    price = 100.0
    for t in range(steps):
        price = gbm_step(st, price, sigma)
        out[t] = price
    return out


@njit(cache=True, error_model="numpy")
def retail_path(seed: np.uint64, arrival_rate: float, mean_size: float, steps: int) -> np.ndarray:
    """Rows (step, size, is_buy) of the orders of the first `steps` steps (retail stream seed + 1)."""
    st = np.zeros(4, dtype=np.uint64)
    rng.seed_from_u64(seed + np.uint64(1), st)
    threshold = poisson_threshold(arrival_rate)
    mu_ln, sigma = size_params(mean_size)
    rows = []
    for t in range(steps):
        for _ in range(order_count(st, threshold)):
            size, is_buy = next_order(st, mu_ln, sigma)
            rows.append((float(t), size, 1.0 if is_buy else 0.0))
    out = np.empty((len(rows), 3))
    for i in range(len(rows)):
        out[i, 0], out[i, 1], out[i, 2] = rows[i]
    return out
