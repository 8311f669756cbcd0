"""The simulation (spec §4.3): per-seed step loop and the parallel batch over seeds, plus the thin wrapper that runs
a batch in blocks (progress, deadline) and turns a shape violation into a RecipeError.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numba
import numpy as np
from numba import njit, prange

from recipes.base import RecipeError
from recipes.prop_amm import rng
from recipes.prop_amm.arb import arb_normalizer, arb_submission
from recipes.prop_amm.config import INITIAL_PRICE, INITIAL_X, INITIAL_Y, draw_config
from recipes.prop_amm.curve import MAX_POINTS
from recipes.prop_amm.pools import AFTER_SWAP_LEN, SWAP_LEN
from recipes.prop_amm.router import route_order
from recipes.prop_amm.streams import gbm_step, next_order, order_count, poisson_threshold, size_params

#: err // 4 -> where the shape violation was found; err % 4 -> what was violated (curve.MONOTONICITY/CONCAVITY).
CONTEXTS = {1: "arbitrage buy search", 2: "arbitrage sell search", 3: "router buy split", 4: "router sell split"}
KINDS = {1: "monotonicity", 2: "concavity"}
#: Reference CLI: at most 8 workers.
MAX_THREADS = 8
_ABORT_EVERY = 256


@njit(cache=True, error_model="numpy")
def _flag(abort, index):
    # A benign race: a lost update only lets some later seeds run longer; errs still names the lowest seed.
    if abort[0] == 0 or index + 1 < abort[0]:
        abort[0] = index + 1


@njit(cache=True, error_model="numpy")
def simulate_seed(seed, n_steps, strict, fns, err, abort, index=0):
    """The submission's edge over one simulation; err[0..2] = (err code, step) on a shape violation.

    `abort[0] = k + 1` records a violation in batch position k (roughly the lowest so far): later positions stop
    early, their edges then meaningless, while earlier ones run on, so the lowest violating seed is always found.
    """
    sigma, arrival, mean_size, fee_bps, liquidity = draw_config(seed)
    st_price = np.zeros(4, dtype=np.uint64)
    st_retail = np.zeros(4, dtype=np.uint64)
    st_arb = np.zeros(4, dtype=np.uint64)
    rng.seed_from_u64(seed, st_price)
    rng.seed_from_u64(seed + np.uint64(1), st_retail)
    rng.seed_from_u64(seed + np.uint64(2), st_arb)
    threshold = poisson_threshold(arrival)
    mu_ln, size_sigma = size_params(mean_size)
    sub = np.array([INITIAL_X, INITIAL_Y])
    norm = np.array([INITIAL_X * liquidity, INITIAL_Y * liquidity])
    ibuf = np.zeros(SWAP_LEN, dtype=np.uint8)
    abuf = np.zeros(AFTER_SWAP_LEN, dtype=np.uint8)
    pts = np.empty((2, MAX_POINTS))
    cnt = np.zeros(1, dtype=np.int64)
    scratch = np.empty((2, MAX_POINTS), dtype=np.uint64)
    price = INITIAL_PRICE
    edge = 0.0
    for step in range(n_steps):
        if step % _ABORT_EVERY == 0 and abort[0] != 0 and abort[0] <= index:
            return edge
        price = gbm_step(st_price, price, sigma)
        arb_edge, code = arb_submission(
            st_arb, mu_ln, size_sigma, price, sub, ibuf, abuf, fns, step, pts, cnt, scratch, strict
        )
        if code != 0:
            err[0], err[1] = code, step
            _flag(abort, index)
            return edge
        edge += arb_edge
        arb_normalizer(price, norm, fee_bps)
        for _ in range(order_count(st_retail, threshold)):
            size, is_buy = next_order(st_retail, mu_ln, size_sigma)
            fill_edge, code = route_order(
                is_buy, size, price, sub, ibuf, abuf, fns, step, norm, fee_bps, pts, cnt, scratch, strict
            )
            if code != 0:
                err[0], err[1] = code, step
                _flag(abort, index)
                return edge
            edge += fill_edge
    return edge


@njit(cache=True, parallel=True, error_model="numpy")
def simulate_batch(seeds, n_steps, strict, fns, edges, errs, abort, offset):
    """Every seed in parallel: edges[i] and errs[i] belong to seeds[i], at batch position offset + i."""
    for i in prange(seeds.shape[0]):
        edges[i] = simulate_seed(seeds[i], n_steps, strict, fns, errs[i], abort, offset + i)


def run_seeds(
    fns: np.ndarray,
    first_seed: int,
    count: int,
    steps: int,
    strict: bool,
    deadline: float | None = None,
    on_block: Callable[[int], None] | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Edges of seeds `first_seed … first_seed+count-1` (u64, wrapping) in seed order.

    Runs in blocks so progress is reported and the deadline checked between blocks.

    Raises:
        RecipeError: a shape violation (strict mode), naming seed, step and context; or the deadline passed.
    """
    if count < 1 or steps < 1:
        raise ValueError("count and steps must be >= 1")
    n_threads = threads or min(numba.config.NUMBA_NUM_THREADS, MAX_THREADS)
    numba.set_num_threads(n_threads)
    seeds = (np.uint64(first_seed) + np.arange(count, dtype=np.uint64)).astype(np.uint64)
    edges = np.zeros(count)
    errs = np.zeros((count, 2), dtype=np.int64)
    abort = np.zeros(1, dtype=np.int64)
    block = max(n_threads, int(n_threads * 2_000_000 // max(steps, 1)))  # ~seconds per block
    for start in range(0, count, block):
        stop = min(start + block, count)
        with numba.parallel_chunksize(1):  # seeds differ in cost: hand them out one at a time
            simulate_batch(seeds[start:stop], steps, strict, fns, edges[start:stop], errs[start:stop], abort, start)
        if abort[0]:
            _raise_violation(seeds, errs)
        if on_block is not None:
            on_block(stop)
        if deadline is not None and time.monotonic() > deadline and stop < count:
            raise RecipeError(f"deadline reached after {stop} of {count} seeds; split the batch with eval_chunk")
    return edges


def _raise_violation(seeds: np.ndarray, errs: np.ndarray) -> None:
    i = int(np.flatnonzero(errs[:, 0])[0])
    code, step = int(errs[i, 0]), int(errs[i, 1])
    raise RecipeError(
        f"submission shape violation during {CONTEXTS[code // 4]}: {KINDS[code % 4]} violated "
        f"(seed {int(seeds[i])}, step {step}); fix the curve or run with strict_curves=false"
    )
