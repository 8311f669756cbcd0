"""The job-kind interface: everything one job type means, in one class (pure)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from controller.jobs.fanout import FanOut
from controller.jobs.fields import FieldErrors
from controller.jobs.merging import Aggregate
from controller.jobs.planning import Plan

if TYPE_CHECKING:
    from controller.jobs.spec import JobSpec


class JobKind(ABC):
    """One job type: its submission fields, their stored form, its plan, its merge and its billable tasks.

    `parse` and `from_json` return JobSpec field values: the default runner sets JobSpec's own `fan_out`,
    `merge_strategy` and `merge`; every other kind returns `{"details": <its own frozen dataclass>}`,
    whose fields read through the spec (`spec.parameters`).
    """

    #: The `type` of a submission.
    name: ClassVar[str]
    #: Submission fields of this type; every other type refuses them by name.
    fields: ClassVar[frozenset[str]]
    #: The field that replaces `payload` for this type (a submitted `payload` is refused), if any.
    payload_field: ClassVar[str | None] = None
    #: The field whose elements become the tasks (named when the planned payloads are too large).
    fan_out_field: ClassVar[str] = "fan_out"

    @abstractmethod
    def parse(self, body: dict[str, Any], payload: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
        """Validate this type's fields of a submission `body` (its `payload` already read); bad ones go to `errors`."""

    @abstractmethod
    def to_json(self, spec: JobSpec) -> dict[str, Any]:
        """This type's fields in the stored form of `spec` (JSON)."""

    @abstractmethod
    def from_json(self, data: dict[str, Any]) -> dict[str, Any]:
        """This type's fields read back from a stored spec (validated once already)."""

    @abstractmethod
    def plan(self, spec: JobSpec) -> Plan:
        """How the job becomes tasks: every type is a fan-out shape underneath."""

    @abstractmethod
    def merge(self, spec: JobSpec, plan: Plan, results: list[Any]) -> Aggregate:
        """The job's aggregate, aliases and warnings from its task results (None for a failed task)."""

    def reduce_command(self, spec: JobSpec) -> tuple[str, ...] | None:
        """The command of one more task run over every planned task's result, if the job has one."""
        return None

    def reduce_payload(self, spec: JobSpec, plan: Plan, results: list[Any]) -> dict[str, Any]:
        """The payload of the reduce task (only called when `reduce_command` gives a command)."""
        raise NotImplementedError(f"{self.name} jobs have no reduce task")

    def billable_tasks(self, spec: JobSpec, plan: Plan) -> int:
        """Tasks the job can run: the planned ones, plus its reduce task if it has one."""
        return plan.task_count + (1 if self.reduce_command(spec) else 0)

    def payloads(self, spec: JobSpec) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every payload the user submitted, with the field it came in (artifact references are checked in each)."""
        yield "payload", spec.payload


def item_payloads(name: str, fan_out: FanOut | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """The object items of a fan-out submitted as field `name`."""
    for i, item in enumerate((fan_out.items if fan_out is not None else None) or ()):
        if isinstance(item, dict):
            yield f"{name}.items[{i}]", item
