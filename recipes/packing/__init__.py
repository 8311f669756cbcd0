"""`packing`: score and search packings of 15 unit semicircles by minimum enclosing circle radius.

Importing this package is cheap: the Numba kernels are imported, and compiled (or loaded from the on-disk cache),
on the first run.
"""

from __future__ import annotations

from typing import Any

from recipes.base import Recipe, RecipeContext
from recipes.packing.baselines import GRID_BASELINE
from recipes.packing.schema import OPERATIONS, PAYLOAD_SCHEMA, validate_payload


def run(payload: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    """Entry point: validate the payload, then dispatch on `operation`.

    Raises:
        RecipeError: the payload or an input artifact is malformed; the message names the field.
    """
    validate_payload(payload)
    from recipes.packing.service import run_operation  # deferred: pulls in numba and the kernels

    return run_operation(payload, ctx)


RECIPE = Recipe(
    name="packing",
    description="Pack 15 unit semicircles into the smallest enclosing circle: score candidates "
    "(45 numbers, interleaved x, y, theta) and search with seeded optimizers. Lower radius is better.",
    operations=OPERATIONS,
    payload_schema=PAYLOAD_SCHEMA,
    run=run,
    artifact_inputs=("candidate_ref", "candidates_ref"),
    examples=(
        {"operation": "eval", "candidate": list(GRID_BASELINE)},
        {"operation": "eval_batch", "candidates_ref": "art_..."},
        {"operation": "feasible_optimize", "candidate_ref": "art_...", "max_iters": 20000, "seed": 0},
    ),
)

__all__ = ["RECIPE", "run"]
