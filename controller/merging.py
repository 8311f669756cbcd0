"""Merging task results into a job's `aggregate_result` (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from controller.planning import Plan


@dataclass
class ElementResults:
    """Per-element results of a job, after undoing `batch_size` grouping."""

    values: list[Any]
    warnings: dict[int, list[str]] = field(default_factory=dict)


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


def merge(strategy: str, plan: Plan, task_results: list[Any]) -> Any:
    """The job's aggregate under `strategy` (`collect`: per-element results in order, null where failed)."""
    if strategy != "collect":
        raise ValueError(f"unknown merge strategy {strategy!r}")
    return element_results(plan, task_results).values


def result_quality(result: Any) -> tuple[float, list[str]]:
    """1.0 for a clean JSON object; lower, with a warning, otherwise."""
    if isinstance(result, dict):
        return 1.0, []
    if result is None:
        return 0.0, ["the task wrote no result"]
    return 0.5, [f"result is a JSON {type(result).__name__}, not an object"]
