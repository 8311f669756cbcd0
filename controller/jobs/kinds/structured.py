"""`structured_runner`, the default kind: one task, or one per fan-out element, merged by a strategy (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from controller.jobs.fanout import parse_fan_out
from controller.jobs.fields import FieldErrors
from controller.jobs.kinds.base import JobKind, item_payloads
from controller.jobs.merging import Aggregate, element_results, merge
from controller.jobs.planning import Plan

if TYPE_CHECKING:
    from controller.jobs.spec import JobSpec

MERGE_STRATEGIES = ("collect", "keyed", "weighted_avg")
MERGE_OPTIONS = ("key_field", "weight_field")


class StructuredRunner(JobKind):
    """The default job type; recipe jobs are of this kind too.

    Its fields are JobSpec's own, stored with every job (their defaults for other types), so its stored form
    adds nothing.
    """

    name = "structured_runner"
    fields = frozenset({"fan_out", "merge_strategy", "merge"})

    def parse(self, body: dict[str, Any], payload: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
        """`fan_out` (over `payload`), `merge_strategy` and `merge` options."""
        fan_out = parse_fan_out(body.get("fan_out"), payload, errors)
        strategy = body.get("merge_strategy", "collect")
        if strategy not in MERGE_STRATEGIES:
            errors.add("merge_strategy", f"must be one of: {', '.join(MERGE_STRATEGIES)}")
            strategy = "collect"
        return {"fan_out": fan_out, "merge_strategy": strategy, "merge": _merge_options(body.get("merge", {}), errors)}

    def to_json(self, spec: JobSpec) -> dict[str, Any]:
        return {}

    def from_json(self, data: dict[str, Any]) -> dict[str, Any]:
        return {}

    def plan(self, spec: JobSpec) -> Plan:
        return Plan(payload=spec.payload, fan_out=spec.fan_out)

    def merge(self, spec: JobSpec, plan: Plan, results: list[Any]) -> Aggregate:
        """The strategy's merge; a weighted_avg aliases its `n` and `total_weight`."""
        value = merge(spec.merge_strategy, plan, results, spec.merge)
        weighted = spec.merge_strategy == "weighted_avg"
        aliases = {"n": value["n"], "total_weight": value["total_weight"]} if weighted else {}
        return Aggregate(value, aliases, element_results(plan, results).all_warnings)

    def payloads(self, spec: JobSpec) -> Iterator[tuple[str, dict[str, Any]]]:
        yield "payload", spec.payload
        yield from item_payloads("fan_out", spec.fan_out)


def _merge_options(value: Any, errors: FieldErrors) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) - set(MERGE_OPTIONS):
        errors.add("merge", f"must be an object with optional {', '.join(MERGE_OPTIONS)}")
        return {}
    for key, item in value.items():
        if not isinstance(item, str) or not item:
            errors.add(f"merge.{key}", "must be a result field name")
    return value
