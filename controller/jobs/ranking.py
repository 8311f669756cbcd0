"""Ranking sweep combinations and summarising benchmark candidates, by a `rank_by` option (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from controller.jobs.fields import AddError

_MISSING = object()


@dataclass(frozen=True)
class RankBy:
    """A dotted path into each result and the direction that wins."""

    field: str
    order: str = "max"

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "order": self.order}


def parse_rank_by(value: Any, add: AddError) -> RankBy | None:
    """`"score"`, `"metrics.auc"` or `{"field": "loss", "order": "min"}`."""
    if value is None:
        return None
    if isinstance(value, str) and value:
        return RankBy(value)
    if isinstance(value, dict) and isinstance(value.get("field"), str) and value["field"]:
        order = value.get("order", "max")
        if order not in ("max", "min") or set(value) - {"field", "order"}:
            add("rank_by", 'must be {"field": "<dotted.path>", "order": "max" | "min"}')
            return None
        return RankBy(value["field"], order)
    add("rank_by", 'must be a dotted path such as "metrics.auc", or {"field": ..., "order": "min" | "max"}')
    return None


def rank_by_to_json(rank_by: RankBy | None) -> dict[str, str] | None:
    """The stored form of an optional rank_by."""
    return None if rank_by is None else rank_by.to_json()


def rank_by_from_json(data: dict[str, str] | None) -> RankBy | None:
    """A stored rank_by read back."""
    return None if data is None else RankBy(**data)


def lookup(result: Any, path: str) -> Any:
    """The value at a dotted path in a result (`"metrics.auc"`), or a sentinel when absent."""
    value = result
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def number(value: Any) -> float | None:
    """`value` as a finite float, or None (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def rank_sweep(
    rank_by: RankBy | None, combos: list[dict[str, Any]], results: list[Any]
) -> tuple[dict[str, Any], list[str]]:
    """`{"best": {params, result, value}, "ranking": [{rank, params, value, task_index}]}` and warnings.

    Results without a numeric value at `rank_by` rank last, in index order.
    """
    warnings: list[str] = []
    if rank_by is None:
        ranking: list[dict[str, Any]] = [
            {"rank": i + 1, "params": combo, "value": None, "task_index": i} for i, combo in enumerate(combos)
        ]
        return {"best": None, "ranking": ranking}, ["no rank_by given: combinations are listed in grid order"]
    scored: list[tuple[float, int, dict[str, Any]]] = []
    unscored: list[tuple[None, int, dict[str, Any]]] = []
    for index, (combo, result) in enumerate(zip(combos, results, strict=True)):
        value = number(lookup(result, rank_by.field)) if result is not None else None
        if value is None:
            unscored.append((None, index, combo))
        else:
            scored.append((value, index, combo))
    scored.sort(key=lambda item: (-item[0] if rank_by.order == "max" else item[0], item[1]))
    missing = [index for _, index, _ in unscored if results[index] is not None]
    if missing:
        warnings.append(f"{len(missing)} results have no numeric {rank_by.field!r}; they rank last")
    ranked: list[tuple[float | None, int, dict[str, Any]]] = [*scored, *unscored]
    ranking = [
        {"rank": rank, "params": combo, "value": value, "task_index": index}
        for rank, (value, index, combo) in enumerate(ranked, start=1)
    ]
    best = None
    if scored:
        value, index, combo = scored[0]
        best = {"params": combo, "result": results[index], "value": value}
    return {"best": best, "ranking": ranking}, warnings


def leaf_paths(result: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], float]]:
    """Every numeric leaf of a result object as (key path, value); keys may themselves contain dots."""
    leaves: list[tuple[tuple[str, ...], float]] = []
    if isinstance(result, dict):
        for key, value in result.items():
            if isinstance(value, dict):
                leaves.extend(leaf_paths(value, (*prefix, key)))
            elif (n := number(value)) is not None:
                leaves.append(((*prefix, key), n))
    return leaves


def numeric_leaves(result: Any) -> dict[str, float]:
    """Every numeric leaf of a result object by dotted path."""
    return {".".join(path): value for path, value in leaf_paths(result)}


def stats(values: list[float]) -> dict[str, float | int]:
    """n, mean, sample std (0 for one value), min, max."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return {"n": n, "mean": mean, "std": std, "min": min(values), "max": max(values)}


def summarise_benchmark(
    names: list[str], replicas: int, rank_by: RankBy | None, results: list[Any]
) -> tuple[dict[str, Any], list[str]]:
    """Per-candidate statistics of every numeric field across replicas, and the ranking by the mean of `rank_by`."""
    candidates: dict[str, Any] = {}
    for position, name in enumerate(names):
        runs = [r for r in results[position * replicas : (position + 1) * replicas] if r is not None]
        fields: dict[str, list[float]] = {}
        for run in runs:
            for path, value in numeric_leaves(run).items():
                fields.setdefault(path, []).append(value)
        candidates[name] = {"n": len(runs), "fields": {path: stats(values) for path, values in fields.items()}}
    warnings: list[str] = []
    ranking: list[dict[str, Any]] = []
    if rank_by is not None:
        scored = [
            (c["fields"][rank_by.field]["mean"], name) for name, c in candidates.items() if rank_by.field in c["fields"]
        ]
        scored.sort(key=lambda item: -item[0] if rank_by.order == "max" else item[0])
        unscored = [name for name in names if rank_by.field not in candidates[name]["fields"]]
        if unscored:
            warnings.append(f"candidates without a numeric {rank_by.field!r} rank last: {', '.join(unscored)}")
        ranking = [
            {"rank": i, "candidate": name, "mean": mean, "n": candidates[name]["n"]}
            for i, (mean, name) in enumerate(scored, start=1)
        ]
        ranking += [
            {"rank": len(scored) + i, "candidate": name, "mean": None, "n": candidates[name]["n"]}
            for i, name in enumerate(unscored, start=1)
        ]
    return {"candidates": candidates, "ranking": ranking}, warnings
