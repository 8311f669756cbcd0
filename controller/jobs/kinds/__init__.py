"""Job kinds: what each job `type` means, one module per type, looked up by name in `KINDS`.

To add a type, write a `JobKind` subclass in its own module here and add an instance to `KINDS`
(see CONTRIBUTING.md, "How to add a job type").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from controller.core.errors import ValidationFailed, field_error
from controller.jobs.kinds.base import JobKind
from controller.jobs.kinds.benchmark import Benchmark
from controller.jobs.kinds.map_reduce import MapReduce
from controller.jobs.kinds.structured import StructuredRunner
from controller.jobs.kinds.sweep import Sweep
from controller.jobs.merging import Aggregate
from controller.jobs.planning import Plan

if TYPE_CHECKING:
    from controller.jobs.spec import JobSpec

__all__ = [
    "DEFAULT_TYPE",
    "JOB_TYPES",
    "KINDS",
    "TYPED_FIELDS",
    "TYPE_FIELDS",
    "JobKind",
    "aggregate",
    "kind_of",
    "plan_job",
]

#: Every job kind by its `type`, the default first (the order `type` errors list them in).
KINDS: dict[str, JobKind] = {kind.name: kind for kind in (StructuredRunner(), Sweep(), MapReduce(), Benchmark())}
DEFAULT_TYPE = StructuredRunner.name
JOB_TYPES = tuple(KINDS)
#: Fields each job type adds to the common ones; any other type refuses them.
TYPE_FIELDS: dict[str, frozenset[str]] = {name: kind.fields for name, kind in KINDS.items()}
TYPED_FIELDS = frozenset().union(*TYPE_FIELDS.values())


def kind_of(job_type: str) -> JobKind:
    """The kind of a job type.

    Raises:
      ValidationFailed: `job_type` is not one of `JOB_TYPES` (the error a submission with that type gets).
    """
    kind = KINDS.get(job_type)
    if kind is None:
        raise ValidationFailed([field_error("type", f"must be one of: {', '.join(JOB_TYPES)}")])
    return kind


def plan_job(spec: JobSpec) -> Plan:
    """The plan of a validated spec, as its kind makes it."""
    return kind_of(spec.type).plan(spec)


def aggregate(spec: JobSpec, plan: Plan, task_results: list[Any]) -> Aggregate:
    """The aggregate of a finished job of any type (a reduce task's result is used as is elsewhere)."""
    return kind_of(spec.type).merge(spec, plan, task_results)
