"""`map_reduce`: a fan-out `split` of map tasks, reduced by operators or by one more task (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from controller.jobs.fanout import FanOut, fan_out_from_json, fan_out_to_json, parse_fan_out
from controller.jobs.fields import AddError, FieldErrors
from controller.jobs.kinds.base import JobKind, item_payloads
from controller.jobs.limits import check_command
from controller.jobs.merging import Aggregate, element_results
from controller.jobs.planning import Plan
from controller.jobs.reducing import REDUCE_OPERATORS, is_reduce_operator, reduce_results

if TYPE_CHECKING:
    from controller.jobs.spec import JobSpec


@dataclass(frozen=True)
class MapReduceFields:
    """The fields of a map_reduce job: `reduce` is `{"operators": {...}, "runner_command": (...) | None}`."""

    split: FanOut | None = None
    reduce: dict[str, Any] = field(default_factory=dict)


class MapReduce(JobKind):
    """Map tasks over `split`, reduced by the controller (`reduce.operators`) or by a task (`reduce.runner_command`)."""

    name = "map_reduce"
    fields = frozenset({"split", "reduce"})
    fan_out_field = "split"

    def parse(self, body: dict[str, Any], payload: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
        """`split` (a fan-out shape over `payload`) and `reduce`."""
        split = None
        if body.get("split") is None:
            errors.add("split", 'required: one fan-out shape, e.g. {"chunks": 10, "range_field": "n", "total": 1000}')
        else:
            split = parse_fan_out(body["split"], payload, errors, name="split")
        return {"details": MapReduceFields(split, parse_reduce(body.get("reduce"), errors.add))}

    def to_json(self, spec: JobSpec) -> dict[str, Any]:
        fields = _fields(spec)
        command = fields.reduce.get("runner_command")
        return {
            "split": fan_out_to_json(fields.split),
            "reduce": {**fields.reduce, "runner_command": list(command) if command else None},
        }

    def from_json(self, data: dict[str, Any]) -> dict[str, Any]:
        reduce = dict(data.get("reduce") or {})
        if reduce.get("runner_command"):
            reduce["runner_command"] = tuple(reduce["runner_command"])
        return {"details": MapReduceFields(fan_out_from_json(data.get("split")), reduce)}

    def plan(self, spec: JobSpec) -> Plan:
        """The split over the payload."""
        return Plan(payload=spec.payload, fan_out=_fields(spec).split)

    def merge(self, spec: JobSpec, plan: Plan, results: list[Any]) -> Aggregate:
        """The operators over the map results; every reduced field is aliased."""
        elements = element_results(plan, results)
        value, notes = reduce_results(_fields(spec).reduce.get("operators", {}), elements.values)
        return Aggregate(value, dict(value), elements.all_warnings + notes)

    def reduce_command(self, spec: JobSpec) -> tuple[str, ...] | None:
        return _fields(spec).reduce.get("runner_command")

    def reduce_payload(self, spec: JobSpec, plan: Plan, results: list[Any]) -> dict[str, Any]:
        """Every map result (null where a map failed) and the job's payload."""
        return {"map_results": element_results(plan, results).values, "payload": spec.payload}

    def payloads(self, spec: JobSpec) -> Iterator[tuple[str, dict[str, Any]]]:
        yield "payload", spec.payload
        yield from item_payloads("split", _fields(spec).split)


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
    elif command is not None:
        check_command("reduce.runner_command", command, add)
    if bool(operators) == (command is not None):
        add("reduce", "give either operators (reduced by the controller) or a runner_command (a reduce task)")
    return {"operators": operators, "runner_command": tuple(command) if command else None}


def _fields(spec: JobSpec) -> MapReduceFields:
    assert isinstance(spec.details, MapReduceFields), spec.type
    return spec.details
