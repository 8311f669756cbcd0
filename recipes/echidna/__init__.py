"""`echidna`: run the Echidna smart-contract fuzzer against a prebuilt Foundry or Hardhat project archive.

Echidna is not installable from the package registries agents reach, so the recipe requires the `echidna`
capability: only agents with a supported `echidna` (and `crytic-compile`) on PATH offer it. OPERATOR.md says
what to install. `tools.supported_version` is the version check for capability detection.
"""

from __future__ import annotations

from typing import Any

from recipes.base import Recipe, RecipeContext
from recipes.echidna.schema import OPERATIONS, PAYLOAD_SCHEMA, validate_payload
from recipes.echidna.tools import supported_version

#: The agent capability this recipe needs (agent.capabilities.FEATURE_TOOLS maps it to the `echidna` executable).
CAPABILITY = "echidna"


def run(payload: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    """Entry point: validate the payload, unpack and check the project, run Echidna, report.

    Raises:
        RecipeError: the payload, the archive or the build is unusable, or Echidna failed; the message says which.
    """
    validate_payload(payload)
    from recipes.echidna.service import run_operation  # deferred: the runner is only needed on capable agents

    return run_operation(payload, ctx)


RECIPE = Recipe(
    name="echidna",
    description="Fuzz a smart contract with Echidna on a prebuilt Foundry or Hardhat project (an archive of the "
    "project after `forge build --build-info` or `npx hardhat compile`; nothing is compiled on the worker). "
    "Reports each test as passed, failed (with the shrunk call sequence) or error, coverage and calls made, and "
    "uploads the corpus and coverage reports. Runs on agents offering the `echidna` capability.",
    operations=OPERATIONS,
    payload_schema=PAYLOAD_SCHEMA,
    run=run,
    artifact_inputs=("project_ref",),
    micro_usd_per_hour=100_000,
    requires=(CAPABILITY,),
    examples=(
        {"operation": "foundry_prebuilt", "project_ref": "art_...", "contract": "TokenInvariants", "test_limit": 50000},
        {
            "operation": "hardhat_prebuilt",
            "project_ref": "art_...",
            "contract": "VaultEchidnaTest",
            "test_mode": "assertion",
            "seed": 7,
            "workers": 2,
        },
    ),
)

__all__ = ["CAPABILITY", "RECIPE", "run", "supported_version"]
