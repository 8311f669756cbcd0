"""Reduce operators of map_reduce jobs, applied by the controller over the map results (pure)."""

from __future__ import annotations

from typing import Any

from controller.jobs.ranking import number

REDUCE_OPERATORS = ("sum", "mean", "min", "max", "count", "concat", "first")
WEIGHTED_MEAN = "weighted_mean:"


def is_reduce_operator(op: Any) -> bool:
    """Whether `op` names a reduce operator."""
    if not isinstance(op, str):
        return False
    return op in REDUCE_OPERATORS or (op.startswith(WEIGHTED_MEAN) and len(op) > len(WEIGHTED_MEAN))


def reduce_results(operators: dict[str, str], results: list[Any]) -> tuple[dict[str, Any], list[str]]:
    """One value per named field: `{"edge": "mean", "n": "sum", ...}` over the successful map results."""
    ok = [r for r in results if isinstance(r, dict)]
    aggregate: dict[str, Any] = {}
    warnings: list[str] = []
    for name, op in operators.items():
        present = [r[name] for r in ok if r.get(name) is not None]
        aggregate[name], warning = _apply(op, name, present, ok)
        if warning:
            warnings.append(warning)
    return aggregate, warnings


def _apply(op: str, name: str, values: list[Any], results: list[dict[str, Any]]) -> tuple[Any, str]:
    if op == "count":
        return len(values), ""
    if op == "first":
        return (values[0] if values else None), ""
    if op == "concat":
        out: list[Any] = []
        for value in values:
            out.extend(value if isinstance(value, list) else [value])
        return out, ""
    if op.startswith(WEIGHTED_MEAN):
        return _weighted_mean(name, op[len(WEIGHTED_MEAN) :], results)
    numbers = [n for v in values if (n := number(v)) is not None]
    skipped = f"{name}: {len(values) - len(numbers)} non-numeric values ignored" if len(numbers) < len(values) else ""
    if not numbers:
        return None, skipped or f"{name}: no numeric values to {op}"
    if op == "sum":
        return sum(numbers), skipped
    if op == "mean":
        return sum(numbers) / len(numbers), skipped
    return (min(numbers) if op == "min" else max(numbers)), skipped


def _weighted_mean(name: str, weight_field: str, results: list[dict[str, Any]]) -> tuple[Any, str]:
    present = [r for r in results if r.get(name) is not None]
    pairs = [(number(r.get(name)), number(r.get(weight_field))) for r in present]
    usable = [(v, w) for v, w in pairs if v is not None and w is not None and w > 0]
    if not usable:
        return None, f"{name}: no results with numeric {name!r} and positive {weight_field!r}"
    total = sum(w for _, w in usable)
    skipped = len(present) - len(usable)
    warning = (
        f"{name}: {skipped} results with a non-numeric {name!r} or without a positive {weight_field!r} ignored"
        if skipped
        else ""
    )
    return sum(v * w for v, w in usable) / total, warning
