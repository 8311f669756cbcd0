"""Numba kernels for the optimizers: moves, the local-search chunk, DE trials and parallel scoring (spec §6).

Randomness never enters a kernel: the Python driver draws every random number from one seeded generator and
passes arrays in, so a kernel is a pure function of its inputs and the runs are reproducible.
A state vector is `[valid (0/1), radius, objective]`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from recipes.packing.constants import DECIMALS, N_PAIRS, N_VALUES, VALID
from recipes.packing.kernels import better, evaluate, objective_of

#: Proposals between step-size adaptations (spec §6.2).
ADAPT_EVERY = 100
SIGMA_MIN = 1e-6
SIGMA_MAX = 0.5
_ADAPT_RATE = 0.2
_ADAPT_FACTOR = 1.5
#: DE crossover probability (SciPy's default `recombination`).
DE_CR = 0.7
_PI = math.pi
_TWO_PI = 2.0 * math.pi


@njit(cache=True)
def wrap_angle(t: float) -> float:
    """θ wrapped into (−π, π]."""
    r = t % _TWO_PI
    return r - _TWO_PI if r > _PI else r


@njit(cache=True)
def settle(k: int, v: float, box: np.ndarray) -> float:
    """Value v placed at index k after a move: x/y clipped to the box, θ wrapped, then rounded to 6 dp."""
    kind = k % 3
    v = wrap_angle(v) if kind == 2 else min(max(v, box[2 * kind]), box[2 * kind + 1])
    return np.round(v, DECIMALS)


@njit(cache=True)
def score_state(cand: np.ndarray, areas: np.ndarray, penalty: float, state: np.ndarray) -> None:
    """Score one candidate into `state` = [valid, radius, objective]."""
    reason, r, _, _, overlap, _ = evaluate(cand, areas)
    state[0] = 1.0 if reason == VALID else 0.0
    state[1] = r
    state[2] = objective_of(reason, r, overlap, penalty)


@njit(cache=True, parallel=True)
def score_states(cands: np.ndarray, penalty: float, states: np.ndarray) -> None:
    """Score every row of `cands` in parallel into `states` (n, 3); rows are independent, so results are too."""
    for c in prange(cands.shape[0]):
        areas = np.empty(N_PAIRS)
        score_state(cands[c], areas, penalty, states[c])


@njit(cache=True)
def is_better(a: np.ndarray, b: np.ndarray) -> bool:
    """Feasibility-first order on two state vectors."""
    return better(a[0] > 0.5, a[1], a[2], b[0] > 0.5, b[1], b[2])


@njit(cache=True)
def perturb_all(src: np.ndarray, z: np.ndarray, scale: float, box: np.ndarray, out: np.ndarray) -> None:
    """out = src + scale·z on every coordinate, then clipped, wrapped and rounded (restarts and hops)."""
    for k in range(N_VALUES):
        out[k] = settle(k, src[k] + scale * z[k], box)


@njit(cache=True)
def local_search_chunk(
    cur: np.ndarray,
    cur_state: np.ndarray,
    best: np.ndarray,
    best_state: np.ndarray,
    sigma: float,
    box: np.ndarray,
    penalty: float,
    idx: np.ndarray,
    z: np.ndarray,
    improvements: np.ndarray,
) -> tuple[int, int, float]:
    """Run len(idx) single-shape Gaussian proposals from `cur` (spec §6.2), updating cur and best in place.

    A proposal is accepted when it is not worse than the current point. Returns (accepted, number of best
    improvements, each written to `improvements` as [proposal offset, objective, valid], and the step size for
    the next chunk).
    """
    trial = cur.copy()
    state = np.empty(3)
    areas = np.empty(N_PAIRS)
    accepted = 0
    n_improved = 0
    for s in range(idx.shape[0]):
        i = idx[s]
        for d in range(3):
            trial[3 * i + d] = settle(3 * i + d, cur[3 * i + d] + sigma * z[s, d], box)
        score_state(trial, areas, penalty, state)
        if not is_better(cur_state, state):
            cur[3 * i : 3 * i + 3] = trial[3 * i : 3 * i + 3]
            cur_state[:] = state
            accepted += 1
        else:
            trial[3 * i : 3 * i + 3] = cur[3 * i : 3 * i + 3]
        if is_better(cur_state, best_state):
            best[:] = cur
            best_state[:] = cur_state
            improvements[n_improved, 0] = s
            improvements[n_improved, 1] = cur_state[2]
            improvements[n_improved, 2] = cur_state[0]
            n_improved += 1
    if idx.shape[0] == ADAPT_EVERY:
        if accepted > _ADAPT_RATE * ADAPT_EVERY:
            sigma *= _ADAPT_FACTOR
        else:
            sigma /= _ADAPT_FACTOR
        sigma = min(max(sigma, SIGMA_MIN), SIGMA_MAX)
    return accepted, n_improved, sigma


@njit(cache=True)
def de_trials(
    pop: np.ndarray,
    best: int,
    f: float,
    r1: np.ndarray,
    r2: np.ndarray,
    cross_u: np.ndarray,
    j_rand: np.ndarray,
    oob_u: np.ndarray,
    box: np.ndarray,
    out: np.ndarray,
) -> None:
    """best1bin trials (spec §6.5): v = x_best + F·(x_r1 − x_r2), binomial crossover, out-of-box x/y redrawn."""
    for i in range(pop.shape[0]):
        for k in range(N_VALUES):
            if not (cross_u[i, k] < DE_CR or k == j_rand[i]):
                out[i, k] = pop[i, k]
                continue
            kind = k % 3
            if kind == 2:
                v = wrap_angle(pop[best, k] + f * wrap_angle(pop[r1[i], k] - pop[r2[i], k]))
            else:
                v = pop[best, k] + f * (pop[r1[i], k] - pop[r2[i], k])
                lo = box[2 * kind]
                hi = box[2 * kind + 1]
                if v < lo or v > hi:
                    v = lo + oob_u[i, k] * (hi - lo)
            out[i, k] = np.round(v, DECIMALS)


@njit(cache=True)
def round_rows(a: np.ndarray) -> None:
    """Round every value to 6 dp in place, the same way the loops do."""
    for i in range(a.shape[0]):
        for k in range(a.shape[1]):
            a[i, k] = np.round(a[i, k], DECIMALS)
