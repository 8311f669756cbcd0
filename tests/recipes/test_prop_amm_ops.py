"""The recipe's operations through its entry point (spec §2): results, chunk merging, validation as results,
after_swap storage, build artifacts, capability gating and payload errors.
"""

from __future__ import annotations

import pytest

from recipes import registry
from recipes.base import RecipeError
from recipes.prop_amm import RECIPE
from recipes.prop_amm.results import merge_chunks
from recipes.prop_amm.simulate import run_seeds
from recipes.prop_amm.strategy_build import CACHE_ENV
from recipes.prop_amm.validate import NANO, Strategy
from tests.recipes.prop_amm_support import (
    EDGES_200,
    FakeContext,
    b64,
    build_cache,
    close,
    loaded,
    source,
)

RESULT_KEYS = {"n_sims", "seed_base", "start", "count", "steps", "total_edge", "avg_edge", "backend", "strict_curves"}


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    # The recipe's own builds go to the session's shared cache, so each strategy compiles once.
    monkeypatch.setenv(CACHE_ENV, str(build_cache()))
    return FakeContext(tmp_path)


def run(ctx, **payload):
    return RECIPE.run(payload, ctx)


def test_prop_amm_is_registered_with_its_bpf_operations_gated_on_sbf():
    # Given the recipe registry
    # When prop_amm is looked up
    recipe = registry()["prop_amm"]
    # Then it is this RECIPE, the three BPF operations need the sbf capability and strategy_ref is an artifact
    assert recipe is RECIPE
    assert dict(recipe.operation_requires) == {op: ("sbf",) for op in ("validate_full", "bpf_eval", "bpf_eval_chunk")}
    assert recipe.artifact_inputs == ("strategy_ref",)
    assert set(recipe.operations) == {
        "eval", "eval_chunk", "validate", "validate_full", "bpf_eval", "bpf_eval_chunk", "build", "concavity_check",
    }  # fmt: skip


def test_eval_returns_the_spec_result_with_per_seed_edges(ctx):
    # Given cp30 as base64 source
    # When seeds 0-9 are evaluated for 200 steps with per-seed output
    result = run(ctx, operation="eval", rs_source_b64=b64(source("cp30")), count=10, steps=200, per_seed=True)
    # Then the result has the spec's fields and the reference's edges, summed in seed order
    assert set(result) == RESULT_KEYS | {"per_seed"}
    assert (result["n_sims"], result["seed_base"], result["start"], result["count"]) == (10, 0, 0, 10)
    assert (result["backend"], result["strict_curves"], result["steps"]) == ("native", True, 200)
    assert [row["seed"] for row in result["per_seed"]] == list(range(10))
    assert all(close(row["edge"], want) for row, want in zip(result["per_seed"], EDGES_200["cp30"], strict=True))
    total = 0.0
    for row in result["per_seed"]:
        total += row["edge"]
    assert result["total_edge"] == total and result["avg_edge"] == total / 10
    assert ctx.progress_calls[-1] == {"seeds_done": 10, "seeds_total": 10}


def test_ten_eval_chunks_merged_by_count_equal_one_eval(ctx):
    # Given a 20-seed batch from seed_base 5, evaluated whole
    common = {"rs_source_b64": b64(source("cp100")), "seed_base": 5, "steps": 200}
    whole = run(ctx, operation="eval", count=20, per_seed=True, **common)
    # When the same batch runs as 10 chunks of 2 seeds (with and without per-seed edges) and is merged
    chunks = [run(ctx, operation="eval_chunk", start=2 * i, count=2, per_seed=True, **common) for i in range(10)]
    lean = [{k: v for k, v in c.items() if k != "per_seed"} for c in chunks]
    merged = merge_chunks(list(reversed(chunks)))
    merged_lean = merge_chunks(lean)
    # Then the merge equals the single run: bit for bit with per-seed edges, to 1e-12 by count-weighted totals
    assert merged == whole
    assert merged_lean["count"] == 20 and merged_lean["start"] == 0 and "per_seed" not in merged_lean
    assert merged_lean["avg_edge"] == pytest.approx(whole["avg_edge"], rel=1e-12)
    weighted = sum(c["avg_edge"] * c["count"] for c in chunks) / sum(c["count"] for c in chunks)
    assert weighted == pytest.approx(whole["avg_edge"], rel=1e-12)


def test_concavity_check_catches_a_non_concave_strategy(ctx):
    # Given a monotone but convex strategy
    # When concavity_check runs
    result = run(ctx, operation="concavity_check", rs_source_b64=b64(source("convex")))
    # Then it is a result, not a failure: ok is false and the concavity checks name the size and outputs
    checks = {c["name"]: c for c in result["checks"]}
    assert result["ok"] is False and result["name"] == "Convex" and result["model_used"] == "None"
    assert checks["concavity_buy"]["ok"] is False and checks["concavity_sell"]["ok"] is False
    assert checks["concavity_buy"]["detail"].startswith("size 0.1: outputs ")
    assert checks["monotonicity_buy"]["ok"] is True and checks["smoke_buy"]["ok"] is True
    assert "randomized_storage" not in checks and "compute_units" not in result


def test_concavity_check_passes_cp30_thanks_to_the_1_nano_tolerance(ctx):
    # Given cp30, whose buy steps at 0.1 are 9969 then 9970
    # When concavity_check runs
    result = run(ctx, operation="concavity_check", rs_source_b64=b64(source("cp30")))
    # Then every check passes
    assert result["ok"] is True, result["checks"]


def test_validate_runs_every_native_check_and_reports_compute_units_as_not_measured(ctx):
    # Given the reference starter
    # When validate runs on this (non-SBF) agent
    result = run(ctx, operation="validate", rs_source_b64=b64(source("starter")))
    # Then all native checks pass, and compute units are null with a note
    names = [c["name"] for c in result["checks"]]
    assert result["ok"] is True, result["checks"]
    assert names == [
        "safe_source", "metadata", "smoke_buy", "smoke_sell", "monotonicity_buy", "monotonicity_sell",
        "concavity_buy", "concavity_sell", "randomized_storage",
    ]  # fmt: skip
    assert result["compute_units"] is None and "SBF" in result["note"]
    assert (result["name"], result["model_used"]) == ("Starter (500 bps)", "None")


def test_validate_reports_missing_metadata_as_a_failed_check(ctx):
    # Given a strategy without MODEL_USED or get_model_used
    src = source("cp30").replace('const MODEL_USED: &str = "None";', "").replace("get_model_used().as_bytes()", 'b""')
    src = src.replace("pub fn get_model_used() -> &'static str {\n    MODEL_USED\n}\n", "")
    # When validated
    result = run(ctx, operation="validate", rs_source_b64=b64(src))
    # Then only the metadata check fails
    failed = [c for c in result["checks"] if not c["ok"]]
    assert result["ok"] is False and [c["name"] for c in failed] == ["metadata"]
    assert "MODEL_USED" in failed[0]["detail"] and "get_model_used" in failed[0]["detail"]


def test_a_strict_eval_of_a_convex_strategy_aborts_with_a_shape_violation(ctx):
    # Given the convex strategy
    payload = {"operation": "eval", "rs_source_b64": b64(source("convex")), "count": 2, "steps": 50}
    # When evaluated with strict curves, then without
    with pytest.raises(RecipeError, match=r"submission shape violation during .*\(seed 0, step 0\)"):
        RECIPE.run(payload, ctx)
    lenient = RECIPE.run({**payload, "strict_curves": False}, ctx)
    # Then the strict run fails naming the seed and step, and the lenient run completes
    assert lenient["strict_curves"] is False and lenient["n_sims"] == 2


def test_after_swap_storage_persists_within_a_simulation_and_steers_quotes():
    # Given the sticky-fee strategy: after_swap records the trade's side and step in storage
    s = Strategy(loaded("sticky_fee"))
    storage = bytearray(1024)
    fresh = s.swap(0, 10 * NANO, storage=bytes(storage))
    # When one trade is reported through after_swap at step 42
    s.after_swap((1, NANO, 98 * NANO, 101 * NANO, 9_902 * NANO, 42), storage)
    # Then storage holds the side and step, and the next quote uses the wider fee that storage selects
    assert storage[0] == 2 and int.from_bytes(storage[8:16], "little") == 42
    assert fresh == 99_600_698 and s.swap(0, 10 * NANO, storage=bytes(storage)) < fresh


def test_after_swap_changes_simulations_and_storage_starts_empty_for_every_seed():
    # Given cp30, cp30 with a no-op after_swap, and the sticky-fee strategy (30 bps until its first trade)
    cp30 = loaded("cp30")
    noop = loaded(source("cp30") + "\npub fn after_swap(_data: &[u8], _storage: &mut [u8]) {}\n")
    sticky = loaded("sticky_fee")
    # When seeds 0-5 run, and seed 4 again alone on one thread
    base = run_seeds(cp30.fns, 0, 6, 200, strict=True)
    with_noop = run_seeds(noop.fns, 0, 6, 200, strict=True)
    with_storage = run_seeds(sticky.fns, 0, 6, 200, strict=True)
    alone = run_seeds(sticky.fns, 4, 1, 200, strict=True, threads=1)
    # Then a no-op hook changes nothing, the storage-driven fee changes every seed, and each seed starts clean
    assert noop.fns[2] == 1 and cp30.fns[2] == 0
    assert with_noop.tolist() == base.tolist()
    assert all(a != b for a, b in zip(with_storage, base, strict=True))
    assert alone.tolist() == [with_storage[4]]


def test_build_publishes_the_native_library(ctx):
    # Given the starter
    # When built
    result = run(ctx, operation="build", rs_source_b64=b64(source("starter")))
    # Then the native cdylib is published and the BPF artifact is null with a note
    assert result["native_artifact"] in ctx.published and result["bpf_artifact"] is None
    assert ctx.published[result["native_artifact"]].read_bytes()[:4] == b"\x7fELF"
    assert result["source_sha256"] and result["name"] == "Starter (500 bps)" and "SBF" in result["note"]


@pytest.mark.parametrize("operation", ["bpf_eval", "bpf_eval_chunk", "validate_full"])
def test_bpf_operations_fail_fast_without_the_sbf_capability(ctx, operation):
    # Given a BPF operation on an agent without the SBF toolchain and VM
    # When it runs
    # Then it fails at once, naming the capability and the native alternative
    with pytest.raises(RecipeError, match=r"needs an SBF-capable agent \(capability 'sbf'\).*eval"):
        run(ctx, operation=operation, rs_source_b64=b64(source("cp30")))


def test_a_compile_error_through_the_recipe_is_a_task_error(ctx):
    # Given a source that does not compile
    # When evaluated
    # Then the task fails with rustc's diagnostics
    with pytest.raises(RecipeError, match=r"error\[E0308\]: mismatched types"):
        run(ctx, operation="eval", rs_source_b64=b64(source("broken")), count=1, steps=10)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"operation": "eval"}, "give exactly one of strategy_ref and rs_source_b64"),
        ({"operation": "eval", "strategy_ref": "art_1", "rs_source_b64": "eA=="}, "exactly one of"),
        ({"operation": "validate", "rs_source_b64": "eA==", "count": 5}, "count: not accepted by operation"),
        ({"operation": "eval", "rs_source_b64": "eA==", "count": 0}, "count: 0 is less than the minimum of 1"),
        ({"operation": "eval", "rs_source_b64": "eA==", "seed_base": 2**64 - 1, "count": 2}, "exceeds the largest"),
        ({"operation": "eval", "rs_source_b64": "!!"}, "rs_source_b64: not valid base64"),
        ({"operation": "simulate", "rs_source_b64": "eA=="}, "operation: 'simulate' is not one of"),
    ],
)
def test_malformed_payloads_are_rejected_naming_the_field(ctx, payload, message):
    # Given a malformed payload
    # When it is run
    # Then the error names what to change
    with pytest.raises(RecipeError, match=message.replace("[", r"\[").replace("(", r"\(")):
        RECIPE.run(payload, ctx)


def test_the_schema_accepts_every_example():
    # Given the recipe's examples
    from jsonschema import Draft202012Validator

    # When validated against the payload schema
    # Then each is accepted
    for example in RECIPE.examples:
        Draft202012Validator(RECIPE.payload_schema).validate(example)
