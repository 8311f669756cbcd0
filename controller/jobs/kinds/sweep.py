"""`sweep`: one task per combination of a parameter grid, ranked by `rank_by` (pure)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from controller.jobs.fanout import FanOut
from controller.jobs.fields import FieldErrors
from controller.jobs.kinds.base import JobKind
from controller.jobs.limits import check_keys
from controller.jobs.merging import Aggregate, element_results
from controller.jobs.planning import Plan
from controller.jobs.ranking import RankBy, parse_rank_by, rank_by_from_json, rank_by_to_json, rank_sweep

if TYPE_CHECKING:
    from controller.jobs.spec import JobSpec

#: Combinations of one sweep's grid (the product of its lists' lengths).
MAX_SWEEP_COMBINATIONS = 10_000


@dataclass(frozen=True)
class SweepFields:
    """The fields of a sweep job."""

    parameters: dict[str, list[Any]] = field(default_factory=dict)
    fixed_payload: dict[str, Any] = field(default_factory=dict)
    rank_by: RankBy | None = None


class Sweep(JobKind):
    """A grid of parameters over `fixed_payload`; the aggregate ranks the combinations."""

    name = "sweep"
    fields = frozenset({"parameters", "fixed_payload", "rank_by"})
    fan_out_field = "parameters"
    payload_field = "fixed_payload"

    def parse(self, body: dict[str, Any], payload: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
        """`parameters` (a grid), `fixed_payload`, `rank_by`."""
        parameters = body.get("parameters")
        _check_grid(parameters, errors)
        fixed = body.get("fixed_payload", {})
        if not isinstance(fixed, dict):
            errors.add("fixed_payload", "must be a JSON object")
            fixed = {}
        rank_by = parse_rank_by(body.get("rank_by"), errors.add)
        return {"details": SweepFields(parameters or {}, fixed, rank_by)}

    def to_json(self, spec: JobSpec) -> dict[str, Any]:
        sweep = _fields(spec)
        return {
            "parameters": sweep.parameters,
            "fixed_payload": sweep.fixed_payload,
            "rank_by": rank_by_to_json(sweep.rank_by),
        }

    def from_json(self, data: dict[str, Any]) -> dict[str, Any]:
        parameters, fixed = data.get("parameters") or {}, data.get("fixed_payload") or {}
        return {"details": SweepFields(parameters, fixed, rank_by_from_json(data.get("rank_by")))}

    def plan(self, spec: JobSpec) -> Plan:
        """One item per grid combination over `fixed_payload`."""
        sweep = _fields(spec)
        return Plan(payload=sweep.fixed_payload, fan_out=FanOut(items=tuple(combinations(sweep.parameters))))

    def merge(self, spec: JobSpec, plan: Plan, results: list[Any]) -> Aggregate:
        """The ranking of the combinations; the best one's params and value are aliased."""
        assert plan.fan_out is not None and plan.fan_out.items is not None
        elements = element_results(plan, results)
        value, notes = rank_sweep(_fields(spec).rank_by, list(plan.fan_out.items), elements.values)
        best = value["best"]
        aliases = {"best_params": best["params"], "best_value": best["value"]} if best else {}
        return Aggregate(value, aliases, elements.all_warnings + notes)

    def payloads(self, spec: JobSpec) -> Iterator[tuple[str, dict[str, Any]]]:
        yield "fixed_payload", _fields(spec).fixed_payload


def _check_grid(parameters: Any, errors: FieldErrors) -> None:
    """A grid of named, non-empty lists, with at most MAX_SWEEP_COMBINATIONS combinations (counted, not built)."""
    if not isinstance(parameters, dict) or not parameters:
        errors.add("parameters", 'required: an object of parameter name -> list of values, e.g. {"lr": [0.1, 0.01]}')
    elif not all(isinstance(v, list) and v for v in parameters.values()):
        errors.add("parameters", "every parameter must map to a non-empty list of values")
    elif check_keys("parameters", parameters, errors.add):
        count = math.prod(len(v) for v in parameters.values())
        if count > MAX_SWEEP_COMBINATIONS:
            errors.add(
                "parameters",
                f"the grid has {count} combinations; the limit is {MAX_SWEEP_COMBINATIONS}: "
                "sweep fewer values per job, or split the grid over several jobs",
            )


def combinations(parameters: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of a sweep grid, first parameter slowest."""
    names = list(parameters)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*parameters.values())]


def _fields(spec: JobSpec) -> SweepFields:
    assert isinstance(spec.details, SweepFields), spec.type
    return spec.details
