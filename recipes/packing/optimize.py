"""The optimizers: feasible_optimize, basin_hopping and differential_evolution (spec §6).

Each is seeded and deterministic when it stops at `max_iters`, stops at `time_limit_s` or the context deadline,
and returns the `eval` result of its best candidate (re-scored through the `eval` path) plus `history` and `params`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from recipes.base import RecipeContext
from recipes.packing.baselines import GRID_BASELINE
from recipes.packing.constants import N_VALUES
from recipes.packing.scoring import eval_candidate, round6
from recipes.packing.search import REFINE_PROPOSALS, SIGMA0, SearchRun, local_search, make_box, stop_time
from recipes.packing.search_kernels import de_trials, is_better, perturb_all, round_rows

#: Standard deviation of the restart perturbation (feasible_optimize).
RESTART_SCALE = 0.1
#: Metropolis temperature of basin hopping.
HOP_TEMPERATURE = 0.01
#: DE dither range of F (SciPy's default `mutation=(0.5, 1)`).
DE_F_RANGE = (0.5, 1.0)


def _start(candidate: list[float] | None) -> np.ndarray:
    return np.asarray(round6(candidate if candidate is not None else GRID_BASELINE), dtype=np.float64)


def _new_run(ctx: RecipeContext, params: dict[str, Any], box: np.ndarray) -> SearchRun:
    return SearchRun(
        ctx=ctx,
        rng=np.random.default_rng(params["seed"]),
        penalty=params["penalty"],
        box=box,
        stop_at=stop_time(ctx, params["time_limit_s"]),
    )


def _finish(run: SearchRun, params: dict[str, Any], iterations: int, counter: str, count: int) -> dict[str, Any]:
    run.report(iterations, final=True)
    result = eval_candidate(run.best.tolist(), params["penalty"])
    result["history"] = run.history(iterations, counter, count)
    result["params"] = dict(params)
    return result


def feasible_optimize(candidate: list[float] | None, params: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    """`n_restarts` local searches of `max_iters` proposals; restart r ≥ 1 starts from a perturbed start."""
    start = _start(candidate)
    run = _new_run(ctx, params, make_box(start))
    start_state = run.score(start)
    run.offer(start, start_state, 0)
    iterations = restarts = 0
    for r in range(params["n_restarts"]):
        if run.out_of_time():
            break
        cur = start.copy()
        if r > 0:
            perturb_all(start, run.rng.standard_normal(N_VALUES), RESTART_SCALE, run.box, cur)
        state = start_state.copy() if r == 0 else run.score(cur)
        run.offer(cur, state, iterations)
        done, accepted = local_search(run, cur, state, params["max_iters"], SIGMA0, iterations, per_proposal=True)
        iterations += done
        run.accepted += accepted
        if done < params["max_iters"]:
            break
        restarts += 1
    return _finish(run, params, iterations, "restarts", restarts)


def basin_hopping(candidate: list[float] | None, params: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    """Refine the start, then `max_iters` hops: Gaussian jump, refinement, Metropolis acceptance at T = 0.01."""
    start = _start(candidate)
    run = _new_run(ctx, params, make_box(start))
    cur = start.copy()
    cur_state = run.score(cur)
    run.offer(cur, cur_state, 0)
    local_search(run, cur, cur_state, REFINE_PROPOSALS, SIGMA0, 0, per_proposal=False)
    hop_scale = params["hop_scale"]
    hops = 0
    trial = np.empty(N_VALUES)
    for hop in range(1, params["max_iters"] + 1):
        if run.out_of_time():
            break
        z = run.rng.standard_normal(N_VALUES)
        u = run.rng.random()
        perturb_all(cur, z, hop_scale, run.box, trial)
        trial_state = run.score(trial)
        run.offer(trial, trial_state, hop)
        done, _ = local_search(run, trial, trial_state, REFINE_PROPOSALS, min(SIGMA0, hop_scale), hop, False)
        if done < REFINE_PROPOSALS:
            break  # out of time mid-refinement: the hop is not complete, but its best was offered
        delta = trial_state[2] - cur_state[2]
        if delta <= 0.0 or u < math.exp(-delta / HOP_TEMPERATURE):
            cur[:] = trial
            cur_state[:] = trial_state
            run.accepted += 1
        hops += 1
        run.report(hops)
    return _finish(run, params, hops, "hops", hops)


def _best_member(states: np.ndarray, n: int) -> int:
    best = 0
    for i in range(1, n):
        if is_better(states[i], states[best]):
            best = i
    return best


def _initial_population(run: SearchRun, size: int, start: np.ndarray | None) -> np.ndarray:
    box = run.box
    pop = np.empty((size, N_VALUES))
    pop[:, 0::3] = run.rng.uniform(box[0], box[1], size=(size, N_VALUES // 3))
    pop[:, 1::3] = run.rng.uniform(box[2], box[3], size=(size, N_VALUES // 3))
    # θ uniform in (−π, π]: π − U[0, 2π).
    pop[:, 2::3] = math.pi - run.rng.uniform(0.0, 2.0 * math.pi, size=(size, N_VALUES // 3))
    round_rows(pop)
    if start is not None:
        pop[0] = start
    return pop


def _partners(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """r1, r2 for every target i: distinct from each other and from i, uniformly."""
    target = np.arange(size)
    a = rng.integers(0, size - 1, size=size)
    r1 = a + (a >= target)
    lo = np.minimum(target, r1)
    hi = np.maximum(target, r1)
    b = rng.integers(0, size - 2, size=size)
    r2 = b + (b >= lo)
    r2 = r2 + (r2 >= hi)
    return r1, r2


def differential_evolution(candidate: list[float] | None, params: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    """best1bin DE over `population_size` members with deferred updates, then a local-search polish."""
    start = None if candidate is None else _start(candidate)
    run = _new_run(ctx, params, make_box(start))
    size = params["population_size"]
    pop = _initial_population(run, size, start)
    states, n_scored = run.score_many(pop)
    best = _best_member(states, n_scored)
    run.offer(pop[best], states[best], 0)
    generations = 0
    trials = np.empty_like(pop)
    while generations < params["max_iters"] and not run.out_of_time():
        f = run.rng.uniform(*DE_F_RANGE)
        r1, r2 = _partners(run.rng, size)
        cross_u = run.rng.random((size, N_VALUES))
        j_rand = run.rng.integers(0, N_VALUES, size=size)
        oob_u = run.rng.random((size, N_VALUES))
        de_trials(pop, best, f, r1, r2, cross_u, j_rand, oob_u, run.box, trials)
        trial_states, n_scored = run.score_many(trials)
        for i in range(n_scored):
            if not is_better(states[i], trial_states[i]):
                pop[i] = trials[i]
                states[i] = trial_states[i]
                run.accepted += 1
        best = _best_member(states, size)
        if n_scored < size:
            break  # out of time mid-generation: the scored trials were applied, the generation is not counted
        generations += 1
        run.offer(pop[best], states[best], generations)
        run.report(generations)
    run.offer(pop[best], states[best], generations)
    polished = pop[best].copy()
    local_search(run, polished, states[best].copy(), REFINE_PROPOSALS, SIGMA0, generations, per_proposal=False)
    return _finish(run, params, generations, "generations", generations)


OPTIMIZERS = {
    "feasible_optimize": feasible_optimize,
    "basin_hopping": basin_hopping,
    "differential_evolution": differential_evolution,
}
