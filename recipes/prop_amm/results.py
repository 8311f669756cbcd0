"""Simulation results (spec §2.2) and the exact merge of chunk results into the batch result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def seed_order_sum(edges: Sequence[float] | np.ndarray) -> float:
    """Σ edge summed left to right in seed order, as the reference does (not pairwise, not fsum)."""
    total = 0.0
    for edge in edges:
        total += float(edge)
    return total


def simulation_result(params: dict[str, Any], edges: np.ndarray, backend: str = "native") -> dict[str, Any]:
    """`{n_sims, seed_base, start, count, steps, total_edge, avg_edge, per_seed?, backend, strict_curves}`."""
    count = int(params["count"])
    total = seed_order_sum(edges)
    result: dict[str, Any] = {
        "n_sims": count,
        "seed_base": params["seed_base"],
        "start": params["start"],
        "count": count,
        "steps": params["steps"],
        "total_edge": total,
        "avg_edge": total / count,
    }
    if params["per_seed"]:
        first = params["seed_base"] + params["start"]
        result["per_seed"] = [{"seed": (first + i) % 2**64, "edge": float(e)} for i, e in enumerate(edges)]
    result["backend"] = backend
    result["strict_curves"] = params["strict_curves"]
    return result


def merge_chunks(chunks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The batch result of chunk results that tile it: counts add, totals add in ascending `start` order, the
    average is weighted by count. When every chunk has `per_seed`, the total is recomputed in seed order, which
    reproduces a single run bit for bit (§2.2, merging chunks).
    """
    ordered = sorted(chunks, key=lambda c: c["start"])
    count = sum(c["count"] for c in ordered)
    merged = dict(ordered[0])
    if all("per_seed" in c for c in ordered):
        per_seed = [row for c in ordered for row in c["per_seed"]]
        merged["per_seed"] = per_seed
        total = seed_order_sum([row["edge"] for row in per_seed])
    else:
        merged.pop("per_seed", None)
        total = seed_order_sum([c["total_edge"] for c in ordered])
    merged.update(n_sims=count, count=count, start=ordered[0]["start"], total_edge=total, avg_edge=total / count)
    return merged
