"""`prop_amm`: score a Rust AMM strategy against a constant-product normalizer, seed-exact with the reference
`benedictbrady/prop-amm-challenge` @ 4f0c612 (spec: specs/recipes/prop_amm.md).

What runs where:
- every agent (native): `eval`, `eval_chunk`, `validate`, `concavity_check`, `build`. The strategy is compiled
  offline by rustc against stand-in `pinocchio`/`wincode`/SDK crates (`rust/`), loaded with ctypes, and called
  from the Numba simulator through its function addresses; seeds run in parallel threads.
- SBF-capable agents only: `validate_full`, `bpf_eval`, `bpf_eval_chunk` (`operation_requires` -> "sbf"). The
  controller never routes them elsewhere; this build ships no SBF VM, so they fail fast with advice (`sbf.py`).
  `validate` reports compute units as not measured and `build` publishes no BPF artifact.

Importing this package is cheap: Numba kernels compile (or load from the on-disk cache) on the first run.
"""

from __future__ import annotations

from typing import Any

from recipes.base import Recipe, RecipeContext
from recipes.prop_amm.schema import OPERATIONS, PAYLOAD_SCHEMA, SBF_OPERATIONS, validate_payload


def run(payload: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    """Entry point: validate the payload, then dispatch on `operation`.

    Raises:
        RecipeError: the payload, source or build is at fault, or a BPF operation reached an agent without SBF.
    """
    validate_payload(payload)
    from recipes.prop_amm.service import run_operation  # deferred: pulls in numba and the kernels

    return run_operation(payload, ctx)


RECIPE = Recipe(
    name="prop_amm",
    description="Score a Rust AMM pricing strategy (compute_swap, optional after_swap) by its edge against a "
    "randomized constant-product normalizer under GBM prices, arbitrage and routed retail flow. Higher is better.",
    operations=OPERATIONS,
    payload_schema=PAYLOAD_SCHEMA,
    run=run,
    artifact_inputs=("strategy_ref",),
    operation_requires={op: ("sbf",) for op in SBF_OPERATIONS},
    examples=(
        {"operation": "eval", "strategy_ref": "art_...", "seed_base": 0, "count": 1000, "steps": 200},
        {"operation": "eval_chunk", "rs_source_b64": "<base64 lib.rs>", "start": 100, "count": 100},
        {"operation": "concavity_check", "strategy_ref": "art_..."},
        {"operation": "validate", "strategy_ref": "art_..."},
        {"operation": "build", "strategy_ref": "art_..."},
    ),
)

__all__ = ["RECIPE", "run"]
