"""Dispatch of a validated `packing` payload to its operation (imports the Numba kernels)."""

from __future__ import annotations

from typing import Any

from recipes.base import RecipeContext
from recipes.packing.inputs import load_candidate, load_candidates, require_finite
from recipes.packing.optimize import OPTIMIZERS
from recipes.packing.schema import with_defaults
from recipes.packing.scoring import eval_batch, eval_candidate


def run_operation(payload: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    """Run `payload['operation']`; the payload has already passed `schema.validate_payload`."""
    operation = payload["operation"]
    params = with_defaults(payload, ctx)
    if operation == "eval":
        values = load_candidate(payload, ctx)
        assert values is not None  # the schema requires `candidate` or `candidate_ref` for eval
        return eval_candidate(values, params["penalty"])
    if operation == "eval_batch":
        return eval_batch(load_candidates(payload, ctx), params["penalty"])
    candidate = load_candidate(payload, ctx)
    if candidate is not None:
        require_finite(candidate, "candidate" if "candidate" in payload else "candidate_ref")
    return OPTIMIZERS[operation](candidate, params, ctx)
