"""Candidate inputs: literal payload values or `*_ref` artifacts, flat or in the arena's object form (spec §2.2)."""

from __future__ import annotations

import json
import math
from typing import Any

from recipes.base import RecipeContext, RecipeError
from recipes.packing.constants import N_SHAPES, N_VALUES


def _is_number(v: Any) -> bool:
    # JSON booleans are not numbers, although Python's bool is an int.
    return isinstance(v, int | float) and not isinstance(v, bool)


def flatten(entry: Any) -> list[float] | str:
    """A candidate as 45 floats, or an error message saying what is wrong with it.

    Accepts the flat interleaved form `[x0, y0, θ0, …]` and the arena/P3 form `[{"x", "y", "theta"}] × 15`.
    """
    if not isinstance(entry, list):
        return f"expected 45 values, got {type(entry).__name__}"
    if entry and all(isinstance(v, dict) for v in entry):
        if len(entry) != N_SHAPES:
            return f"expected {N_SHAPES} {{x, y, theta}} objects, got {len(entry)}"
        values = []
        for i, shape in enumerate(entry):
            if not all(_is_number(shape.get(key)) for key in ("x", "y", "theta")):
                return f"semicircle {i} needs numeric x, y and theta"
            values += [shape["x"], shape["y"], shape["theta"]]
        entry = values
    if len(entry) != N_VALUES:
        return f"expected {N_VALUES} values, got {len(entry)}"
    if all(type(v) is float for v in entry):  # the common case, checked fast
        return list(entry)
    for k, v in enumerate(entry):
        if not _is_number(v):
            return f"expected {N_VALUES} numbers; value {k} is {type(v).__name__}"
    return [float(v) for v in entry]


def _read_artifact(field: str, ref: str, ctx: RecipeContext) -> Any:
    try:
        with open(ctx.artifact_path(ref), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise RecipeError(f"{field}: cannot read artifact {ref!r} as JSON ({exc})") from exc


def load_candidate(payload: dict[str, Any], ctx: RecipeContext) -> list[float] | None:
    """`candidate`, else the `candidate_ref` artifact, else None. Raises RecipeError on a malformed one."""
    if "candidate" in payload:
        field, raw = "candidate", payload["candidate"]
    elif "candidate_ref" in payload:
        field, raw = "candidate_ref", _read_artifact("candidate_ref", payload["candidate_ref"], ctx)
    else:
        return None
    values = flatten(raw)
    if isinstance(values, str):
        raise RecipeError(f"{field}: {values}")
    return values


def load_candidates(payload: dict[str, Any], ctx: RecipeContext) -> list[list[float] | str]:
    """`candidates`, else the `candidates_ref` artifact: each entry flattened or replaced by its error message."""
    if "candidates" in payload:
        raw = payload["candidates"]
    else:
        raw = _read_artifact("candidates_ref", payload["candidates_ref"], ctx)
        if not isinstance(raw, list):
            raise RecipeError("candidates_ref: the artifact must be a JSON array of candidates")
    return [flatten(entry) for entry in raw]


def require_finite(values: list[float], field: str) -> None:
    """Optimizers need a finite start: its MEC centre and radius define the search box."""
    if not all(math.isfinite(v) for v in values):
        raise RecipeError(f"{field}: an optimizer start candidate must have finite values")
