"""Dispatch of a validated `prop_amm` payload to its operation (imports the Numba kernels and compiles Rust)."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from recipes.base import RecipeContext
from recipes.prop_amm import sbf
from recipes.prop_amm.inputs import load_source
from recipes.prop_amm.results import simulation_result
from recipes.prop_amm.schema import SBF_OPERATIONS, with_defaults
from recipes.prop_amm.simulate import run_seeds
from recipes.prop_amm.strategy_build import COMPILE_TIMEOUT_S, NativeBuild, build_native, load
from recipes.prop_amm.validate import behaviour_checks, metadata_check

logger = logging.getLogger(__name__)


def run_operation(payload: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    """Run `payload['operation']`; the payload has already passed `schema.validate_payload`.

    Raises:
        RecipeError: a BPF operation on this agent, an unreadable source, a failed source check, a compile error,
            a shape violation in strict mode, or the deadline.
    """
    operation = payload["operation"]
    if operation in SBF_OPERATIONS:
        sbf.require_sbf(operation)
    build = build_native(load_source(payload, ctx), timeout_s=_compile_timeout(ctx))
    if operation == "build":
        return _build_result(build, ctx)
    if operation in ("eval", "eval_chunk"):
        return _evaluate(build, with_defaults(payload), ctx)
    return _validate(build, with_storage=operation == "validate")


def _compile_timeout(ctx: RecipeContext) -> float:
    deadline = getattr(ctx, "deadline", None)
    if deadline is None or not math.isfinite(deadline):
        return COMPILE_TIMEOUT_S
    return max(1.0, min(COMPILE_TIMEOUT_S, deadline - time.monotonic()))


def _evaluate(build: NativeBuild, params: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    loaded = load(build)
    count = params["count"]
    logger.info("prop_amm eval source=%s seeds=%d steps=%d", build.source_sha256[:12], count, params["steps"])
    edges = run_seeds(
        loaded.fns,
        params["seed_base"] + params["start"],
        count,
        params["steps"],
        params["strict_curves"],
        deadline=getattr(ctx, "deadline", None),
        on_block=lambda done: ctx.progress(seeds_done=done, seeds_total=count),
    )
    return simulation_result(params, edges)


def _validate(build: NativeBuild, with_storage: bool) -> dict[str, Any]:
    checks = [{"name": "safe_source", "ok": True, "detail": ""}, metadata_check(build.metadata)]
    checks += behaviour_checks(load(build), with_storage)
    result: dict[str, Any] = {
        "ok": all(c["ok"] for c in checks),
        "name": build.metadata.name,
        "model_used": build.metadata.model_used,
        "checks": checks,
    }
    if with_storage:
        result["compute_units"] = None
        result["note"] = sbf.NOTE
    return result


def _build_result(build: NativeBuild, ctx: RecipeContext) -> dict[str, Any]:
    artifact = ctx.publish_artifact(build.library, f"prop_amm_{build.source_sha256[:16]}.so")
    return {
        "native_artifact": artifact,
        "bpf_artifact": None,
        "note": sbf.BUILD_NOTE,
        "source_sha256": build.source_sha256,
        "name": build.metadata.name,
        "model_used": build.metadata.model_used,
    }
