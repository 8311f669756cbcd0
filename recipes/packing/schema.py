"""The `packing` payload schema (JSON Schema draft 2020-12), its defaults, and validation that names the field."""

from __future__ import annotations

import math
import time
from typing import Any

from recipes.base import RecipeContext, RecipeError

OPERATIONS: dict[str, str] = {
    "eval": "Score one 45-dimensional candidate vector",
    "eval_batch": "Score a batch of candidates in one step",
    "feasible_optimize": "Local search with feasibility-first scoring",
    "basin_hopping": "Basin-hopping with bounded Gaussian hops and local refinement",
    "differential_evolution": "Bounded differential evolution",
}
OPTIMIZERS = ("feasible_optimize", "basin_hopping", "differential_evolution")

#: `max_iters` default per optimizer: proposals per restart, hops, generations.
MAX_ITERS_DEFAULT = {"feasible_optimize": 20000, "basin_hopping": 100, "differential_evolution": 1000}
DEFAULTS: dict[str, Any] = {"penalty": 1000.0, "seed": 0, "n_restarts": 4, "population_size": 50, "hop_scale": 0.1}
#: `time_limit_s` default: this share of the time left before the task's deadline, or a fixed value without one.
TIME_LIMIT_SHARE = 0.8
TIME_LIMIT_FALLBACK_S = 240.0

#: Fields each operation accepts besides `operation`; anything else is rejected so typos do not pass silently.
_COMMON_OPT = ("candidate", "candidate_ref", "penalty", "seed", "max_iters", "time_limit_s")
FIELDS: dict[str, tuple[str, ...]] = {
    "eval": ("candidate", "candidate_ref", "penalty"),
    "eval_batch": ("candidates", "candidates_ref", "penalty"),
    "feasible_optimize": (*_COMMON_OPT, "n_restarts"),
    "basin_hopping": (*_COMMON_OPT, "hop_scale"),
    "differential_evolution": (*_COMMON_OPT, "population_size"),
}

_LAYOUT = "45 numbers, interleaved [x0, y0, theta0, ..., x14, y14, theta14]; theta in radians"
_PROPERTIES: dict[str, Any] = {
    "operation": {"enum": list(OPERATIONS)},
    "candidate": {"description": _LAYOUT, "type": "array", "items": {"type": "number"}, "minItems": 45, "maxItems": 45},
    "candidate_ref": {
        "description": "artifact id of a JSON candidate: 45 numbers or 15 {x, y, theta} objects",
        "type": "string",
        "minLength": 1,
    },
    "candidates": {
        "description": "array of candidates; a malformed entry gets an error result, not a failed batch",
        "type": "array",
        "items": {"type": "array"},
    },
    "candidates_ref": {"description": "artifact id of a JSON array of candidates", "type": "string", "minLength": 1},
    "penalty": {"description": "objective = radius + penalty * overlap_area", "type": "number", "minimum": 0},
    "seed": {"description": "seed of the optimizer's random generator", "type": "integer", "minimum": 0},
    "max_iters": {
        "description": "feasible_optimize: proposals per restart (20000); basin_hopping: hops (100); "
        "differential_evolution: generations (1000)",
        "type": "integer",
        "minimum": 1,
    },
    "n_restarts": {"type": "integer", "minimum": 1},
    "population_size": {"description": "absolute number of DE members", "type": "integer", "minimum": 5},
    "hop_scale": {"description": "standard deviation of a basin hop", "type": "number", "exclusiveMinimum": 0},
    "time_limit_s": {
        "description": "optimizer wall-clock budget; default 80% of the task timeout, or 240 s without one",
        "type": "number",
        "exclusiveMinimum": 0,
    },
}
for _name, _default in DEFAULTS.items():
    _PROPERTIES[_name]["default"] = _default


def _rules(operation: str) -> dict[str, Any]:
    """The if/then rule of one operation: what it requires, what it forbids, its `max_iters` default."""
    # {"not": {}} rather than false: jsonschema drops the field's path from errors of a false subschema.
    forbidden: dict[str, dict[str, Any]] = {
        f: {"not": {}} for f in _PROPERTIES if f not in (*FIELDS[operation], "operation")
    }
    then: dict[str, Any] = {"properties": forbidden}
    if operation == "eval":
        then["if"] = {"not": {"required": ["candidate_ref"]}}
        then["then"] = {"required": ["candidate"]}
    elif operation == "eval_batch":
        then["if"] = {"not": {"required": ["candidates_ref"]}}
        then["then"] = {"required": ["candidates"]}
    else:
        then["properties"]["max_iters"] = {"default": MAX_ITERS_DEFAULT[operation]}
    return {"if": {"properties": {"operation": {"const": operation}}, "required": ["operation"]}, "then": then}


PAYLOAD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "packing payload",
    "description": "15 unit semicircles; score = radius of the minimum enclosing circle (lower is better). "
    "Every value is rounded to 6 decimals before scoring. " + _LAYOUT,
    "type": "object",
    "required": ["operation"],
    "properties": _PROPERTIES,
    "additionalProperties": False,
    "allOf": [_rules(op) for op in OPERATIONS],
}


_MAX_ERRORS = 5


def _message(error: Any, operation: Any) -> str:
    field = "/".join(str(p) for p in error.absolute_path) or "payload"
    if error.validator == "not" and error.validator_value == {}:
        return f"{field}: not accepted by operation {operation!r} (accepted: {', '.join(FIELDS[operation])})"
    return f"{field}: {error.message}"


def validate_payload(payload: Any) -> None:
    """Raise RecipeError naming the offending field when `payload` does not match PAYLOAD_SCHEMA."""
    from jsonschema import Draft202012Validator  # deferred: listing recipes should not pay for it

    errors = sorted(
        Draft202012Validator(PAYLOAD_SCHEMA).iter_errors(payload), key=lambda e: [str(p) for p in e.absolute_path]
    )
    if errors:
        operation = payload.get("operation") if isinstance(payload, dict) else None
        messages = [_shorten(_message(e, operation)) for e in errors[:_MAX_ERRORS]]
        if len(errors) > _MAX_ERRORS:
            messages.append(f"and {len(errors) - _MAX_ERRORS} more")
        raise RecipeError("; ".join(messages))


def _shorten(message: str, limit: int = 200) -> str:
    # jsonschema quotes the offending instance, which for a candidate is a 45-number list.
    return message if len(message) <= limit else message[: limit - 3] + "..."


def with_defaults(payload: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    """The parameters in effect for `payload['operation']`, defaults filled in (the optimizers' `params`)."""
    operation = payload["operation"]
    params = {name: payload.get(name, default) for name, default in DEFAULTS.items() if name in FIELDS[operation]}
    params["penalty"] = float(params["penalty"])
    if operation in OPTIMIZERS:
        params["max_iters"] = payload.get("max_iters", MAX_ITERS_DEFAULT[operation])
        params["time_limit_s"] = float(payload.get("time_limit_s") or _default_time_limit(ctx))
    return params


def _default_time_limit(ctx: RecipeContext) -> float:
    deadline = getattr(ctx, "deadline", None)
    if deadline is None or not math.isfinite(deadline):
        return TIME_LIMIT_FALLBACK_S
    # The context gives a deadline, not the task's timeout_s. The time left at the start is timeout_s less the
    # startup delay; rounding to whole seconds recovers the (integer) timeout_s, so the same payload reports the
    # same params run after run.
    left = deadline - time.monotonic()
    timeout_s = float(round(left)) if left >= 1.0 else max(left, 1e-3)
    return TIME_LIMIT_SHARE * timeout_s
