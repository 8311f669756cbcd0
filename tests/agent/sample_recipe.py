"""A recipe made for testing the warm pool: it reports its pid and can sleep, print, fail, crash or grow."""

from __future__ import annotations

import os
import time
from typing import Any

from recipes.base import Recipe, RecipeContext, RecipeError

_hoard: list[bytes] = []


def run(payload: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    for i in range(payload.get("progress", 0)):
        ctx.progress(iteration=i)
    for i in range(payload.get("print", 0)):
        print(f"line {i}")
    if payload.get("grow_mb"):
        _hoard.append(b"x" * (payload["grow_mb"] * 1024 * 1024))
    if payload.get("sleep"):
        time.sleep(payload["sleep"])
    if payload.get("fail"):
        raise RecipeError("asked to fail")
    if payload.get("bug"):
        raise ZeroDivisionError("division by zero")
    if payload.get("exit"):
        os._exit(3)
    if payload.get("publish"):
        path = ctx.output_dir / "out.txt"
        path.write_text("published")
        return {"artifact": ctx.publish_artifact(path, "out.txt")}
    return {"pid": os.getpid(), "left_s": ctx.deadline - time.monotonic()}


RECIPE = Recipe(
    name="sample",
    description="test recipe",
    operations={"run": "run"},
    payload_schema={"type": "object"},
    run=run,
)
