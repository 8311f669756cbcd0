"""The optimizers improve on their start, are deterministic per seed, stop on time, and report honestly."""

from __future__ import annotations

import pytest

from recipes.base import RecipeError
from recipes.packing import RECIPE
from tests.recipes import packing_reference as reference
from tests.recipes.packing_support import GRID, SPREAD, FakeContext

SMALL = {
    "feasible_optimize": {"max_iters": 300, "n_restarts": 2},
    "basin_hopping": {"max_iters": 2, "hop_scale": 0.1},
    "differential_evolution": {"max_iters": 8, "population_size": 12},
}
COUNTERS = {"feasible_optimize": "restarts", "basin_hopping": "hops", "differential_evolution": "generations"}


def _run(tmp_path, payload, timeout_s: float = 300.0):
    ctx = FakeContext(tmp_path, timeout_s=timeout_s)
    return RECIPE.run(payload, ctx), ctx


def _assert_reports_exactly_what_eval_says(tmp_path, result):
    """The returned fields are `eval` of the returned candidate, and its verdict is the reference scorer's."""
    again, _ = _run(tmp_path, {"operation": "eval", "candidate": result["candidate"], "penalty": result["penalty"]})
    assert {k: result[k] for k in again} == again
    ref = reference.score(result["candidate"])
    assert result["valid"] == ref["valid"]
    if result["valid"]:
        assert result["score"] == pytest.approx(ref["radius"], abs=1e-9)


def test_feasible_optimize_shrinks_a_spread_out_start_and_reports_it_honestly(tmp_path):
    # Given 15 semicircles spread along a line (R ≈ 70.5)
    payload = {"operation": "feasible_optimize", "candidate": SPREAD, **SMALL["feasible_optimize"]}
    # When feasible_optimize runs a few hundred proposals per restart
    result, ctx = _run(tmp_path, payload)
    # Then it returns a valid, smaller packing whose fields are exactly eval's, with the run's history
    assert result["valid"] is True and result["score"] < 70.5 - 0.1
    _assert_reports_exactly_what_eval_says(tmp_path, result)
    history = result["history"]
    assert history["stop_reason"] == "max_iters" and history["restarts"] == 2 and history["iterations"] == 600
    assert history["trace"][0][1] > history["trace"][-1][1]
    assert result["params"] == {"penalty": 1000.0, "seed": 0, "max_iters": 300, "n_restarts": 2} | {
        "time_limit_s": result["params"]["time_limit_s"]
    }
    assert ctx.progress_calls and {"iteration", "best_score"} <= set(ctx.progress_calls[-1])


def test_feasible_optimize_from_the_default_grid_start_stays_valid_at_most_3_5(tmp_path):
    # Given no candidate (the grid baseline is the start)
    # When feasible_optimize runs briefly
    result, _ = _run(tmp_path, {"operation": "feasible_optimize", "max_iters": 200, "n_restarts": 1})
    # Then the result is valid with R ≤ 3.5
    assert result["valid"] is True and result["score"] <= 3.5 + 1e-12


def test_basin_hopping_improves_on_the_grid_baseline(tmp_path):
    # Given the grid baseline (R = 3.5)
    payload = {"operation": "basin_hopping", "candidate": GRID, "seed": 1, **SMALL["basin_hopping"]}
    # When basin hopping makes two hops
    result, _ = _run(tmp_path, payload)
    # Then it returns a valid packing below 3.5, exactly as eval scores it
    assert result["valid"] is True and result["score"] < 3.5
    assert result["history"]["hops"] == 2 and result["history"]["stop_reason"] == "max_iters"
    _assert_reports_exactly_what_eval_says(tmp_path, result)


def test_differential_evolution_from_random_members_never_claims_an_invalid_packing_valid(tmp_path):
    # Given no start candidate: every member is random in the box, so most are overlapping
    payload = {"operation": "differential_evolution", "seed": 3, **SMALL["differential_evolution"]}
    # When DE runs a few generations and polishes
    result, _ = _run(tmp_path, payload)
    # Then its best improved on the initial population, and its verdict is the reference scorer's
    trace = result["history"]["trace"]
    assert (trace[-1][2], -trace[-1][1]) > (trace[0][2], -trace[0][1])
    assert result["history"]["generations"] == 8
    _assert_reports_exactly_what_eval_says(tmp_path, result)


@pytest.mark.parametrize("operation", list(SMALL))
def test_the_same_payload_gives_the_same_result_when_stopped_by_max_iters(tmp_path, operation):
    # Given one payload with a seed
    payload = {"operation": operation, "candidate": GRID, "seed": 11, **SMALL[operation]}
    # When it runs twice
    first, _ = _run(tmp_path, payload)
    second, _ = _run(tmp_path, payload)
    # Then everything but the elapsed time is identical
    for result in (first, second):
        assert result["history"].pop("elapsed_s") >= 0.0
        assert result["history"]["stop_reason"] == "max_iters"
    assert first == second


@pytest.mark.parametrize("operation", list(SMALL))
def test_an_optimizer_stops_at_its_time_limit_with_its_best_so_far(tmp_path, operation):
    # Given a large iteration budget but a 0.2 s time limit
    payload = {"operation": operation, "candidate": GRID, "max_iters": 10**6, "time_limit_s": 0.2}
    # When the optimizer runs
    result, _ = _run(tmp_path, payload)
    # Then it stops on time, having done less than max_iters, and still returns an honest best
    history = result["history"]
    assert history["stop_reason"] == "time_limit"
    assert history[COUNTERS[operation]] < 10**6
    assert result["valid"] is True and result["score"] <= 3.5 + 1e-12


def test_an_optimizer_without_time_limit_stops_before_the_task_deadline(tmp_path):
    # Given a task with 2 s left and no time_limit_s
    payload = {"operation": "basin_hopping", "max_iters": 10**6}
    # When basin hopping runs
    result, _ = _run(tmp_path, payload, timeout_s=2.0)
    # Then it stops after 80 % of the task's timeout and says so
    assert result["history"]["stop_reason"] == "time_limit"
    assert result["params"]["time_limit_s"] == 1.6


def test_feasible_optimize_starts_from_a_candidate_ref_artifact(tmp_path):
    # Given the P1 example's shape of request: a start candidate given by artifact
    ctx = FakeContext(tmp_path)
    ref = ctx.add_artifact("art_start", GRID)
    # When feasible_optimize runs from it
    result = RECIPE.run(
        {"operation": "feasible_optimize", "candidate_ref": ref, "max_iters": 100, "n_restarts": 1}, ctx
    )
    # Then it searched from that start and returns a valid packing no worse than it
    assert result["history"]["iterations"] == 100
    assert result["valid"] is True and result["score"] <= 3.5 + 1e-12


def test_an_optimizer_refuses_a_non_finite_start(tmp_path):
    # Given a start candidate holding NaN
    values = list(GRID)
    values[0] = float("nan")
    # When an optimizer is asked to start from it
    # Then a RecipeError names the candidate
    with pytest.raises(RecipeError, match="candidate"):
        RECIPE.run({"operation": "basin_hopping", "candidate": values}, FakeContext(tmp_path))
