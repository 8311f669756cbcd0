"""The `prop_amm` payload schema (JSON Schema draft 2020-12), its defaults, and validation that names the field."""

from __future__ import annotations

from typing import Any

from recipes.base import RecipeError

OPERATIONS: dict[str, str] = {
    "eval": "Compile natively and run the standard simulation batch",
    "eval_chunk": "Run one deterministic contiguous seed chunk of the native batch",
    "validate": "Fast validation suite (static, smoke, monotonicity, concavity, randomized storage); native",
    "validate_full": "Full validation including native/BPF parity checks (needs an SBF-capable agent)",
    "bpf_eval": "Compile for BPF and evaluate with the constrained runtime (needs an SBF-capable agent)",
    "bpf_eval_chunk": "Run one seed chunk through the BPF evaluator (needs an SBF-capable agent)",
    "build": "Compile and publish the native artifact (and the BPF artifact on SBF-capable agents)",
    "concavity_check": "Fast validation with explicit buy/sell concavity checks; native",
}
#: Operations that need the SBF toolchain and VM (spec §0): routed only to agents with the `sbf` capability.
SBF_OPERATIONS = ("validate_full", "bpf_eval", "bpf_eval_chunk")
SIMULATIONS = ("eval", "eval_chunk", "bpf_eval", "bpf_eval_chunk")
DEFAULTS: dict[str, Any] = {
    "seed_base": 0,
    "start": 0,
    "count": 1000,
    "steps": 10000,
    "strict_curves": True,
    "per_seed": False,
}
U64_MAX = 2**64 - 1

_SOURCE = ("strategy_ref", "rs_source_b64")
_BATCH = ("seed_base", "start", "count", "steps", "strict_curves", "per_seed")
#: Fields each operation accepts besides `operation`; anything else is rejected so typos do not pass silently.
FIELDS: dict[str, tuple[str, ...]] = {
    "eval": (*_SOURCE, *_BATCH),
    "eval_chunk": (*_SOURCE, *_BATCH),
    "bpf_eval": (*_SOURCE, *_BATCH),
    "bpf_eval_chunk": (*_SOURCE, *_BATCH),
    "validate": _SOURCE,
    "validate_full": (*_SOURCE, "strict_curves"),
    "build": _SOURCE,
    "concavity_check": _SOURCE,
}

_PROPERTIES: dict[str, Any] = {
    "operation": {"enum": list(OPERATIONS)},
    "strategy_ref": {
        "description": "artifact id of the Rust source: a lib.rs file, or a tar/zip archive holding exactly one lib.rs",
        "type": "string",
        "minLength": 1,
    },
    "rs_source_b64": {"description": "the Rust source (a single lib.rs), base64", "type": "string", "minLength": 1},
    "seed_base": {"description": "first seed of the batch", "type": "integer", "minimum": 0, "maximum": U64_MAX},
    "start": {"description": "offset of the chunk within the batch", "type": "integer", "minimum": 0},
    "count": {"description": "number of seeds (simulations)", "type": "integer", "minimum": 1},
    "steps": {"description": "steps per simulation", "type": "integer", "minimum": 1},
    "strict_curves": {"description": "enforce the runtime curve-shape check (abort on a violation)", "type": "boolean"},
    "per_seed": {"description": "return the edge of each seed", "type": "boolean"},
}
for _name, _default in DEFAULTS.items():
    _PROPERTIES[_name]["default"] = _default


def _rules(operation: str) -> dict[str, Any]:
    """The if/then rule of one operation: exactly one source field, nothing it does not accept."""
    # {"not": {}} rather than false: jsonschema drops the field's path from errors of a false subschema.
    forbidden: dict[str, dict[str, Any]] = {
        f: {"not": {}} for f in _PROPERTIES if f not in (*FIELDS[operation], "operation")
    }
    then = {"properties": forbidden, "oneOf": [{"required": ["strategy_ref"]}, {"required": ["rs_source_b64"]}]}
    return {"if": {"properties": {"operation": {"const": operation}}, "required": ["operation"]}, "then": then}


PAYLOAD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "prop_amm payload",
    "description": "Score a Rust AMM strategy (compute_swap, optional after_swap) against the constant-product "
    "normalizer: seeds seed_base+start … seed_base+start+count-1, each simulated for `steps` steps. "
    "Give exactly one of strategy_ref and rs_source_b64.",
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
    if error.validator == "oneOf":
        return "give exactly one of strategy_ref and rs_source_b64"
    return f"{field}: {error.message}"


def validate_payload(payload: Any) -> None:
    """Raise RecipeError naming the offending field when `payload` does not match PAYLOAD_SCHEMA."""
    from jsonschema import Draft202012Validator  # deferred: listing recipes should not pay for it

    errors = sorted(
        Draft202012Validator(PAYLOAD_SCHEMA).iter_errors(payload), key=lambda e: [str(p) for p in e.absolute_path]
    )
    operation = payload.get("operation") if isinstance(payload, dict) else None
    if errors:
        messages = [_shorten(_message(e, operation)) for e in errors[:_MAX_ERRORS]]
        if len(errors) > _MAX_ERRORS:
            messages.append(f"and {len(errors) - _MAX_ERRORS} more")
        raise RecipeError("; ".join(messages))
    if operation in SIMULATIONS:
        params = with_defaults(payload)
        last = params["seed_base"] + params["start"] + params["count"] - 1
        if last > U64_MAX:
            raise RecipeError(f"seed_base + start + count - 1 = {last} exceeds the largest seed 2^64-1")


def _shorten(message: str, limit: int = 200) -> str:
    # jsonschema quotes the offending instance, which for rs_source_b64 is a whole source file.
    return message if len(message) <= limit else message[: limit - 3] + "..."


def with_defaults(payload: dict[str, Any]) -> dict[str, Any]:
    """The batch parameters in effect for `payload['operation']`, defaults filled in."""
    accepted = FIELDS[payload["operation"]]
    return {name: payload.get(name, default) for name, default in DEFAULTS.items() if name in accepted}
