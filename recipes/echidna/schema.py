"""The `echidna` payload schema (JSON Schema draft 2020-12) and validation that names the field."""

from __future__ import annotations

from typing import Any

from recipes.base import RecipeError

OPERATIONS: dict[str, str] = {
    "foundry_prebuilt": "Fuzz a contract of a Foundry project archived after `forge build --build-info`",
    "hardhat_prebuilt": "Fuzz a contract of a Hardhat project archived after `npx hardhat compile`",
}
TEST_MODES = ("property", "assertion", "foundry", "overflow", "optimization", "exploration")
DEFAULT_TEST_MODE = "property"

_PROPERTIES: dict[str, Any] = {
    "operation": {"enum": list(OPERATIONS)},
    "project_ref": {
        "description": "artifact id of a .tar.gz, .tar or .zip of the project after it was built (Foundry: "
        "foundry.toml and out/build-info; Hardhat: hardhat.config.* and artifacts/build-info), at the top of the "
        "archive or one folder down. Nothing is compiled on the worker.",
        "type": "string",
        "minLength": 1,
    },
    "contract": {
        "description": "name of the contract to deploy and fuzz (Echidna --contract)",
        "type": "string",
        "pattern": "^[A-Za-z_$][A-Za-z0-9_$]*$",
        "maxLength": 256,
    },
    "test_mode": {"description": "Echidna --test-mode", "enum": list(TEST_MODES), "default": DEFAULT_TEST_MODE},
    "test_limit": {
        "description": "Echidna --test-limit: calls to make (Echidna's default: 50000)",
        "type": "integer",
        "minimum": 1,
        "maximum": 1_000_000_000,
    },
    "seq_len": {
        "description": "Echidna --seq-len: calls per sequence (Echidna's default: 100)",
        "type": "integer",
        "minimum": 1,
        "maximum": 100_000,
    },
    "shrink_limit": {
        "description": "Echidna --shrink-limit: tries to shorten a failing sequence (Echidna's default: 5000)",
        "type": "integer",
        "minimum": 0,
        "maximum": 100_000_000,
    },
    "seed": {
        "description": "Echidna --seed; a random seed when absent (the result reports the one used)",
        "type": "integer",
        "minimum": 0,
        "maximum": 2**63 - 1,
    },
    "stop_on_fail": {
        "description": "stop at the first failing test (Echidna config stopOnFail; default false)",
        "type": "boolean",
    },
    "workers": {
        "description": "Echidna --workers: parallel fuzzing workers (Echidna's default: 1)",
        "type": "integer",
        "minimum": 1,
        "maximum": 64,
    },
}

PAYLOAD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "echidna payload",
    "description": "Run the Echidna smart-contract fuzzer against a prebuilt Foundry or Hardhat project. Runs only on "
    "agents that offer the `echidna` capability. Each field maps to the Echidna option it names.",
    "type": "object",
    "required": ["operation", "project_ref", "contract"],
    "properties": _PROPERTIES,
    "additionalProperties": False,
}

_MAX_ERRORS = 5


def validate_payload(payload: Any) -> None:
    """Raise RecipeError naming each offending field when `payload` does not match PAYLOAD_SCHEMA."""
    from jsonschema import Draft202012Validator  # deferred: listing recipes should not pay for it

    errors = sorted(
        Draft202012Validator(PAYLOAD_SCHEMA).iter_errors(payload), key=lambda e: [str(p) for p in e.absolute_path]
    )
    if errors:
        messages = [f"{'/'.join(map(str, e.absolute_path)) or 'payload'}: {e.message}" for e in errors[:_MAX_ERRORS]]
        if len(errors) > _MAX_ERRORS:
            messages.append(f"and {len(errors) - _MAX_ERRORS} more")
        raise RecipeError("; ".join(messages))
