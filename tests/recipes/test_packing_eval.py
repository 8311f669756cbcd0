"""`eval` and `eval_batch` through the recipe's entry point return the result shapes of spec §2.2."""

from __future__ import annotations

import math

import pytest

from recipes import registry
from recipes.base import RecipeError
from recipes.packing import RECIPE
from tests.recipes.packing_support import GRID, P5_BEST, PILED, FakeContext

EVAL_KEYS = {
    "score",
    "valid",
    "radius",
    "center",
    "overlaps",
    "overlap_area",
    "objective",
    "penalty",
    "containment_ok",
    "reason",
    "warnings",
    "candidate",
}


@pytest.fixture
def ctx(tmp_path):
    return FakeContext(tmp_path)


def test_the_packing_recipe_is_registered():
    # Given the recipe registry
    # When it is listed
    # Then `packing` is the RECIPE of recipes.packing
    assert registry()["packing"] is RECIPE


def test_eval_of_the_grid_baseline_returns_the_spec_result(ctx):
    # Given the grid baseline as a literal candidate
    # When it is evaluated
    result = RECIPE.run({"operation": "eval", "candidate": GRID}, ctx)
    # Then the result has exactly the spec's fields and values
    assert set(result) == EVAL_KEYS
    assert result["valid"] is True and result["reason"] is None and result["containment_ok"] is True
    assert result["score"] == result["radius"] == result["objective"] == pytest.approx(3.5, abs=1e-9)
    assert result["center"] == pytest.approx([0.0, 1.5], abs=1e-9)
    assert (result["overlaps"], result["overlap_area"], result["penalty"], result["warnings"]) == ([], 0.0, 1000.0, [])
    assert result["candidate"] == GRID


def test_eval_rounds_to_6_decimals_before_scoring(ctx):
    # Given the grid baseline with noise below half a unit in the 6th decimal
    noisy = [v + 4e-7 for v in GRID]
    # When it is evaluated
    result = RECIPE.run({"operation": "eval", "candidate": noisy}, ctx)
    # Then the echoed candidate is the rounded one and the score is the baseline's
    assert result["candidate"] == [round(v, 6) for v in noisy] == GRID
    assert result["score"] == pytest.approx(3.5, abs=1e-9)


def test_eval_of_an_overlapping_candidate_lists_pairs_and_penalises_the_objective(ctx):
    # Given 15 semicircles piled at the origin and a penalty of 10
    # When evaluated
    result = RECIPE.run({"operation": "eval", "candidate": PILED, "penalty": 10}, ctx)
    # Then it is invalid for overlap, pairs are sorted (i, j) with areas, and objective = radius + 10 × area
    assert result["valid"] is False and result["score"] is None and result["reason"] == "overlap"
    pairs = [(i, j) for i, j, _ in result["overlaps"]]
    assert pairs == sorted(pairs) and len(pairs) > 50
    assert all(area > 1e-6 for _, _, area in result["overlaps"])
    assert result["overlap_area"] == pytest.approx(sum(a for _, _, a in result["overlaps"]), rel=1e-12)
    assert result["objective"] == pytest.approx(result["radius"] + 10 * result["overlap_area"], rel=1e-12)


def test_eval_of_a_non_finite_candidate_is_invalid_with_nulls(ctx):
    # Given a candidate holding infinity
    values = list(GRID)
    values[7] = math.inf
    # When evaluated
    result = RECIPE.run({"operation": "eval", "candidate": values}, ctx)
    # Then reason is non_finite and score, radius, center and objective are null
    assert result["reason"] == "non_finite" and result["valid"] is False
    assert [result[k] for k in ("score", "radius", "center", "objective")] == [None] * 4
    assert result["candidate"][7] is None


def test_eval_warns_about_theta_beyond_two_pi_without_invalidating(ctx):
    # Given the P5 packing with semicircle 0 turned by a full 2π (a different θ value, the same shape)
    values = list(P5_BEST)
    values[2] += 2 * math.pi
    # When evaluated
    result = RECIPE.run({"operation": "eval", "candidate": values}, ctx)
    # Then a theta_magnitude warning names that semicircle, and the packing stays valid
    assert result["valid"] is True
    assert [(w["code"], w["indices"]) for w in result["warnings"]] == [("theta_magnitude", [0])]


def test_eval_reads_a_candidate_ref_in_the_arena_object_form(ctx):
    # Given an artifact of 15 {x, y, theta} objects
    shapes = [{"x": GRID[3 * i], "y": GRID[3 * i + 1], "theta": GRID[3 * i + 2]} for i in range(15)]
    ref = ctx.add_artifact("art_grid", shapes)
    # When evaluated by reference
    result = RECIPE.run({"operation": "eval", "candidate_ref": ref}, ctx)
    # Then it is converted to interleaved order and scored
    assert result["candidate"] == GRID and result["score"] == pytest.approx(3.5, abs=1e-9)


def test_a_literal_candidate_takes_precedence_over_candidate_ref(ctx):
    # Given both a literal candidate and a reference to a different one
    ref = ctx.add_artifact("art_piled", PILED)
    # When evaluated
    result = RECIPE.run({"operation": "eval", "candidate": GRID, "candidate_ref": ref}, ctx)
    # Then the literal one is scored
    assert result["candidate"] == GRID


@pytest.mark.parametrize("content", [GRID[:30], {"x": 1}, [{"x": 0, "y": 0}] * 15])
def test_eval_rejects_a_malformed_candidate_ref_naming_the_field(ctx, content):
    # Given an artifact that is not a candidate
    ref = ctx.add_artifact("art_bad", content)
    # When evaluated
    # Then a RecipeError names candidate_ref
    with pytest.raises(RecipeError, match="candidate_ref"):
        RECIPE.run({"operation": "eval", "candidate_ref": ref}, ctx)


def test_eval_batch_scores_in_input_order_and_names_the_best_valid_entry(ctx):
    # Given a batch: an invalid pile, the grid, the better P5 packing, a malformed entry, P5 again
    batch = [PILED, GRID, P5_BEST, [1.0, 2.0], P5_BEST]
    # When evaluated as a batch
    result = RECIPE.run({"operation": "eval_batch", "candidates": batch}, ctx)
    # Then results follow the input, the malformed entry has an error, and the best is the first P5 (ties: lowest)
    assert set(result) == {"results", "best_index", "best_score", "n_valid"}
    assert [r["valid"] for r in result["results"]] == [False, True, True, False, True]
    assert result["results"][3] == {"valid": False, "score": None, "error": "expected 45 values, got 2"}
    assert set(result["results"][1]) == EVAL_KEYS - {"candidate"}
    assert result["best_index"] == 2 and result["n_valid"] == 3
    assert result["best_score"] == pytest.approx(2.969702623775271, abs=1e-9)


def test_eval_batch_results_equal_single_evals(ctx):
    # Given a few candidates
    batch = [PILED, GRID, P5_BEST]
    # When scored as a batch and one by one
    batch_results = RECIPE.run({"operation": "eval_batch", "candidates": batch}, ctx)["results"]
    single = [RECIPE.run({"operation": "eval", "candidate": c}, ctx) for c in batch]
    # Then each batch entry is the eval result without `candidate`
    for b, s in zip(batch_results, single, strict=True):
        s.pop("candidate")
        assert b == s


def test_eval_batch_without_valid_entries_picks_the_lowest_objective(ctx):
    # Given two overlapping candidates, the second overlapping less
    lighter = list(PILED)
    lighter[0] = 5.0
    # When scored as a batch from an artifact
    ref = ctx.add_artifact("art_batch", [PILED, lighter, "oops"])
    result = RECIPE.run({"operation": "eval_batch", "candidates_ref": ref}, ctx)
    # Then no entry is valid, the best is the lower objective, and its score is null
    assert result["n_valid"] == 0 and result["best_index"] == 1 and result["best_score"] is None
    assert result["results"][2]["error"].startswith("expected 45 values")


def test_eval_batch_of_nothing_has_no_best(ctx):
    # Given an empty batch
    # When scored
    result = RECIPE.run({"operation": "eval_batch", "candidates": []}, ctx)
    # Then there are no results and no best
    assert result == {"results": [], "best_index": None, "best_score": None, "n_valid": 0}
