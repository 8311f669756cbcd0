"""`eval` and `eval_batch`: Python rounding, the Numba scorer, and the result objects of spec §2.2."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from recipes.packing.constants import (
    N_PAIRS,
    N_SHAPES,
    N_VALUES,
    NON_FINITE,
    OVERLAP_TOL,
    REASONS,
    THETA_WARN,
    VALID,
)
from recipes.packing.kernels import (
    INFO_CONTAINED,
    INFO_CX,
    INFO_CY,
    INFO_OVERLAP,
    INFO_RADIUS,
    INFO_REASON,
    INFO_WIDTH,
    evaluate,
    evaluate_batch,
)

#: (i, j) of each entry of the kernel's pair-area vector.
PAIRS: tuple[tuple[int, int], ...] = tuple((i, j) for i in range(N_SHAPES) for j in range(i + 1, N_SHAPES))


def round6(values: Sequence[float]) -> list[float]:
    """Python `round(v, 6)` of every value: the explicit rounding step before scoring (spec §5).

    Non-finite values pass through unchanged (`round(inf, 6)` is inf).
    """
    return [round(float(v), 6) for v in values]


def theta_warnings(values: Sequence[float]) -> list[dict[str, Any]]:
    """The `theta_magnitude` warning when any |θ| > 2π (probably degrees); it does not invalidate."""
    indices = [i for i in range(N_SHAPES) if abs(values[3 * i + 2]) > THETA_WARN]
    if not indices:
        return []
    return [
        {
            "code": "theta_magnitude",
            "indices": indices,
            "message": "|theta| > 2*pi for these semicircles; theta is in radians (degrees given by mistake?)",
        }
    ]


def build_result(
    rounded: Sequence[float],
    reason: int,
    radius: float,
    cx: float,
    cy: float,
    overlap_area: float,
    contained: bool,
    areas: np.ndarray,
    penalty: float,
) -> dict[str, Any]:
    """The `eval` result (without `candidate`) from the kernel's outputs."""
    base: dict[str, Any] = {"penalty": float(penalty), "reason": REASONS[reason], "warnings": theta_warnings(rounded)}
    if reason == NON_FINITE:
        # Nothing geometric can be computed; overlap_area is null too rather than a claimed 0.
        return {
            "score": None,
            "valid": False,
            "radius": None,
            "center": None,
            "overlaps": [],
            "overlap_area": None,
            "objective": None,
            "containment_ok": False,
            **base,
        }
    overlaps = [[*PAIRS[p], float(areas[p])] for p in np.flatnonzero(areas > OVERLAP_TOL)]
    radius = float(radius)
    return {
        "score": radius if reason == VALID else None,
        "valid": reason == VALID,
        "radius": radius,
        "center": [float(cx), float(cy)],
        "overlaps": overlaps,
        "overlap_area": float(overlap_area),
        "objective": radius + penalty * float(overlap_area),
        "containment_ok": bool(contained),
        **base,
    }


def eval_candidate(values: Sequence[float], penalty: float) -> dict[str, Any]:
    """Score one 45-vector exactly as the `eval` operation does, `candidate` included."""
    rounded = round6(values)
    areas = np.zeros(N_PAIRS)
    reason, radius, cx, cy, overlap, contained = evaluate(np.asarray(rounded, dtype=np.float64), areas)
    result = build_result(rounded, reason, radius, cx, cy, overlap, contained, areas, penalty)
    result["candidate"] = [v if math.isfinite(v) else None for v in rounded]
    return result


def better_result(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Feasibility-first order on two results: valid first, then radius; among invalid ones, objective."""
    if a["valid"] != b["valid"]:
        return bool(a["valid"])
    if a["valid"]:
        return a["radius"] < b["radius"]
    obj_a = math.inf if a["objective"] is None else a["objective"]
    obj_b = math.inf if b["objective"] is None else b["objective"]
    return obj_a < obj_b


def eval_batch(entries: Sequence[list[float] | str], penalty: float) -> dict[str, Any]:
    """Score well-formed entries in parallel; an entry given as a string is an error message for that entry."""
    well_formed = [(k, e) for k, e in enumerate(entries) if not isinstance(e, str)]
    good = [k for k, _ in well_formed]
    rounded = [round6(e) for _, e in well_formed]
    cands = np.asarray(rounded, dtype=np.float64).reshape(len(good), N_VALUES)
    info = np.zeros((len(good), INFO_WIDTH))
    areas = np.zeros((len(good), N_PAIRS))
    if good:
        evaluate_batch(cands, info, areas)
    results: list[dict[str, Any]] = [
        {"valid": False, "score": None, "error": e} if isinstance(e, str) else {} for e in entries
    ]
    best: int | None = None
    for row, k in enumerate(good):
        results[k] = build_result(
            rounded[row],
            int(info[row, INFO_REASON]),
            info[row, INFO_RADIUS],
            info[row, INFO_CX],
            info[row, INFO_CY],
            info[row, INFO_OVERLAP],
            info[row, INFO_CONTAINED] > 0.5,
            areas[row],
            penalty,
        )
        if best is None or better_result(results[k], results[best]):
            best = k
    return {
        "results": results,
        "best_index": best,
        "best_score": None if best is None else results[best]["score"],
        "n_valid": sum(1 for r in results if r.get("valid")),
    }
