"""Merging task results: per-element results, the structured_runner strategies, result quality (pure: no I/O).

Each job kind (`controller.jobs.kinds`) turns these into its `Aggregate`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from controller.jobs.planning import Plan, chunk_bounds
from controller.jobs.ranking import leaf_paths, number


@dataclass
class ElementResults:
    """Per-element results of a job, after undoing `batch_size` grouping."""

    values: list[Any]
    warnings: dict[int, list[str]] = field(default_factory=dict)

    @property
    def all_warnings(self) -> list[str]:
        """Every warning, in task order."""
        return [w for notes in self.warnings.values() for w in notes]


@dataclass
class Aggregate:
    """A job's merged result, short aliases into it, and warnings about the inputs."""

    value: Any
    aliases: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def split_task_result(plan: Plan, index: int, result: Any) -> tuple[list[Any], list[str]]:
    """The per-element results of task `index`, and warnings about its shape."""
    count = len(plan.elements(index))
    if not plan.batched:
        return [result], []
    if isinstance(result, list) and len(result) == count:
        return list(result), []
    if isinstance(result, dict) and isinstance(result.get("results"), list) and len(result["results"]) == count:
        return list(result["results"]), []
    return [None] * count, [f"batched task should return a list of {count} results; its elements are null"]


def element_results(plan: Plan, task_results: list[Any]) -> ElementResults:
    """Expand each task's result (None for a failed task) into per-element results, in element order."""
    values: list[Any] = []
    warnings: dict[int, list[str]] = {}
    for index, result in enumerate(task_results):
        if result is None:
            values.extend([None] * len(plan.elements(index)))
            continue
        parts, notes = split_task_result(plan, index, result)
        values.extend(parts)
        if notes:
            warnings[index] = notes
    return ElementResults(values=values, warnings=warnings)


def merge(strategy: str, plan: Plan, task_results: list[Any], options: dict[str, Any] | None = None) -> Any:
    """A structured_runner aggregate: `collect`, `keyed` or `weighted_avg` over per-element results."""
    values = element_results(plan, task_results).values
    options = options or {}
    if strategy == "collect":
        return values
    if strategy == "keyed":
        return keyed(plan, values, options.get("key_field"))
    if strategy == "weighted_avg":
        return weighted_avg(plan, values, options.get("weight_field"))
    raise ValueError(f"unknown merge strategy {strategy!r}")


def keyed(plan: Plan, values: list[Any], key_field: str | None = None) -> dict[str, Any]:
    """Results keyed by element: the `by` value, `items[i][key_field]` (else the index), or `start-end` of a chunk."""
    out: dict[str, Any] = {}
    items = plan.fan_out.items if plan.fan_out is not None else None
    for element, value in enumerate(values):
        key = plan.element_key(element)
        if items is not None and key_field and key_field in items[element]:
            raw = items[element][key_field]
            key = raw if isinstance(raw, str) else json.dumps(raw)
        out.setdefault(key, value)
    return out


def weighted_avg(plan: Plan, values: list[Any], weight_field: str | None = None) -> dict[str, Any]:
    """Every numeric leaf averaged across results, weighted by `result[weight_field]`, else chunk size, else 1."""
    sums: dict[tuple[str, ...], float] = {}
    weights: dict[tuple[str, ...], float] = {}
    total_weight, n = 0.0, 0
    chunked = plan.fan_out is not None and plan.fan_out.chunks is not None
    for element, result in enumerate(values):
        if not isinstance(result, dict):
            continue
        if weight_field:
            weight = number(result.get(weight_field))
            if weight is None or weight <= 0:
                continue
        elif chunked:
            weight = float(_chunk_size(plan, element))
        else:
            weight = 1.0
        n += 1
        total_weight += weight
        for path, value in leaf_paths(result):
            sums[path] = sums.get(path, 0.0) + value * weight
            weights[path] = weights.get(path, 0.0) + weight
    averaged: dict[str, Any] = {}
    for path, total in sums.items():
        _put(averaged, path, total / weights[path])
    if weight_field and weight_field in averaged:
        averaged[weight_field] = total_weight  # the weight itself adds up rather than averaging
    return {**averaged, "total_weight": total_weight, "n": n}


def _chunk_size(plan: Plan, element: int) -> int:
    fan_out = plan.fan_out
    assert fan_out is not None and fan_out.total is not None and fan_out.chunks is not None
    return chunk_bounds(fan_out.total, fan_out.chunks, element)[1]


def _put(target: dict[str, Any], path: tuple[str, ...], value: float) -> None:
    """Set a nested value; where results disagree (a number here, an object there), the first shape wins."""
    *parents, leaf = path
    for part in parents:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            return
    if not isinstance(target.get(leaf), dict):
        target[leaf] = value


def result_quality(result: Any, batched: bool = False) -> tuple[float, list[str]]:
    """1.0 for a clean JSON object (a list, for a batched task); lower, with a warning, otherwise."""
    if isinstance(result, dict) or (batched and isinstance(result, list)):
        return 1.0, []
    if result is None:
        return 0.0, ["the task wrote no result"]
    return 0.5, [f"result is a JSON {type(result).__name__}, not an object"]
