"""Validation of the fields specific to `sweep`, `map_reduce` and `benchmark` jobs (pure)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Fields each job type adds to the common ones; any other type refuses them.
TYPE_FIELDS: dict[str, frozenset[str]] = {
    "structured_runner": frozenset({"fan_out", "merge_strategy", "merge"}),
    "sweep": frozenset({"parameters", "fixed_payload", "rank_by"}),
    "map_reduce": frozenset({"split", "reduce"}),
    "benchmark": frozenset({"candidates", "shared_payload", "replicas", "rank_by"}),
}
JOB_TYPES = tuple(TYPE_FIELDS)
TYPED_FIELDS = frozenset().union(*TYPE_FIELDS.values())

MAX_SWEEP_COMBINATIONS = 10_000
MAX_REPLICAS = 100
REDUCE_OPERATORS = ("sum", "mean", "min", "max", "count", "concat", "first")
WEIGHTED_MEAN = "weighted_mean:"

AddError = Callable[[str, str], None]


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


def parse_sweep(body: dict[str, Any], add: AddError) -> dict[str, Any]:
    """`parameters` (a grid), `fixed_payload`, `rank_by`."""
    parameters = body.get("parameters")
    if not isinstance(parameters, dict) or not parameters:
        add("parameters", 'required: an object of parameter name -> list of values, e.g. {"lr": [0.1, 0.01]}')
    elif not all(isinstance(v, list) and v for v in parameters.values()):
        add("parameters", "every parameter must map to a non-empty list of values")
    else:
        count = math.prod(len(v) for v in parameters.values())
        if count > MAX_SWEEP_COMBINATIONS:
            add("parameters", f"the grid has {count} combinations; the limit is {MAX_SWEEP_COMBINATIONS}")
    fixed = body.get("fixed_payload", {})
    if not isinstance(fixed, dict):
        add("fixed_payload", "must be a JSON object")
        fixed = {}
    return {"parameters": parameters or {}, "fixed_payload": fixed, "rank_by": parse_rank_by(body.get("rank_by"), add)}


def combinations(parameters: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of a sweep grid, first parameter slowest."""
    names = list(parameters)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*parameters.values())]


def parse_benchmark(body: dict[str, Any], add: AddError) -> dict[str, Any]:
    """`candidates` ({name: overrides} or [{"name", "payload"}]), `shared_payload`, `replicas`, `rank_by`."""
    candidates = _candidates(body.get("candidates"), add)
    shared = body.get("shared_payload", {})
    if not isinstance(shared, dict):
        add("shared_payload", "must be a JSON object")
        shared = {}
    replicas = body.get("replicas", 1)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or not 1 <= replicas <= MAX_REPLICAS:
        add("replicas", f"must be an integer from 1 to {MAX_REPLICAS}")
        replicas = 1
    return {
        "candidates": candidates,
        "shared_payload": shared,
        "replicas": replicas,
        "rank_by": parse_rank_by(body.get("rank_by"), add),
    }


def _candidates(value: Any, add: AddError) -> tuple[tuple[str, dict[str, Any]], ...]:
    if isinstance(value, dict) and value:
        pairs = list(value.items())
    elif isinstance(value, list) and value and all(isinstance(c, dict) for c in value):
        pairs = [(c.get("name"), c.get("payload", {})) for c in value]
    else:
        add("candidates", 'required: {"name": {payload overrides}, ...} or [{"name": ..., "payload": {...}}, ...]')
        return ()
    names = [name for name, _ in pairs]
    if not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        add("candidates", "every candidate needs a unique, non-empty name")
        return ()
    if not all(isinstance(p, dict) for _, p in pairs):
        add("candidates", "every candidate's payload overrides must be an object")
        return ()
    return tuple(pairs)


def parse_reduce(value: Any, add: AddError) -> dict[str, Any]:
    """`{"operators": {field: op}}` and/or `{"runner_command": [...]}` (an extra reduce task)."""
    if not isinstance(value, dict) or not value or set(value) - {"operators", "runner_command"}:
        add("reduce", 'required: {"operators": {"field": "sum" | "mean" | ...}} or {"runner_command": [...]}')
        return {"operators": {}, "runner_command": None}
    operators = value.get("operators", {})
    if not isinstance(operators, dict):
        add("reduce.operators", "must be an object of result field -> operator")
        operators = {}
    for name, op in operators.items():
        if not is_reduce_operator(op):
            add(
                f"reduce.operators.{name}",
                f"unknown operator {op!r}; use one of {', '.join(REDUCE_OPERATORS)} or weighted_mean:<weight_field>",
            )
    command = value.get("runner_command")
    if command is not None and (
        not isinstance(command, list) or not command or not all(isinstance(a, str) and a for a in command)
    ):
        add("reduce.runner_command", "must be a non-empty list of non-empty strings")
        command = None
    if bool(operators) == (command is not None):
        add("reduce", "give either operators (reduced by the controller) or a runner_command (a reduce task)")
    return {"operators": operators, "runner_command": tuple(command) if command else None}


def is_reduce_operator(op: Any) -> bool:
    """Whether `op` names a reduce operator."""
    if not isinstance(op, str):
        return False
    return op in REDUCE_OPERATORS or (op.startswith(WEIGHTED_MEAN) and len(op) > len(WEIGHTED_MEAN))
