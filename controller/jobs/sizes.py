"""Upper bounds of the payload bytes a plan's tasks receive, from its parts: no task payload is built (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from controller.jobs.fields import AddError
from controller.jobs.limits import (
    LARGE_INPUTS,
    MAX_JOB_PAYLOAD_BYTES,
    MAX_TASK_PAYLOAD_BYTES,
    TASK_OVERHEAD_BYTES,
    json_size,
)
from controller.jobs.planning import Plan


@dataclass(frozen=True)
class PlannedBytes:
    """Upper bounds of a plan's task payloads, from its parts (no task payload is built)."""

    #: bytes every task receives (the payload without the fan-out's elements)
    shared: int
    #: the largest task payload
    largest_task: int
    #: every task payload together
    total: int


def planned_bytes(plan: Plan) -> PlannedBytes:
    """Bounds of the task payloads of `plan`: shared payload + largest batch, and shared × tasks + every element."""
    fan_out = plan.fan_out
    whole = json_size(plan.payload)
    if fan_out is None:
        return PlannedBytes(whole, whole, whole)
    tasks = plan.task_count
    if fan_out.by is not None:
        values = plan.payload[fan_out.by]
        listed = json_size(values)
        shared = whole - listed
        # a task's payload is a part of the whole one; measure the elements one by one only if that is too large
        largest = whole + TASK_OVERHEAD_BYTES
        if largest > MAX_TASK_PAYLOAD_BYTES:
            largest = shared + _largest_batch([json_size(v) for v in values], plan.batch_size)
        return PlannedBytes(shared, largest, tasks * (shared + TASK_OVERHEAD_BYTES) + listed)
    if fan_out.items is not None:
        sizes = [json_size(item) for item in fan_out.items]
        largest = whole + _largest_batch(sizes, plan.batch_size)
        return PlannedBytes(whole, largest, tasks * (whole + TASK_OVERHEAD_BYTES) + sum(sizes))
    chunk = _chunk_size(plan)
    largest = whole + TASK_OVERHEAD_BYTES + min(plan.batch_size, plan.element_count) * chunk
    return PlannedBytes(whole, largest, tasks * (whole + TASK_OVERHEAD_BYTES) + plan.element_count * chunk)


def check_plan_size(plan: Plan, payload_field: str, fan_out_field: str, add: AddError) -> None:
    """The plan's task payloads fit MAX_TASK_PAYLOAD_BYTES each and MAX_JOB_PAYLOAD_BYTES together."""
    size = planned_bytes(plan)
    if size.shared > MAX_TASK_PAYLOAD_BYTES:
        add(payload_field, f"is {size.shared} bytes; a task's payload may be {MAX_TASK_PAYLOAD_BYTES}: {LARGE_INPUTS}")
        return
    if size.largest_task > MAX_TASK_PAYLOAD_BYTES:
        add(
            fan_out_field,
            f"a task would receive up to {size.largest_task} bytes (the {size.shared}-byte shared payload and its "
            f"batch); the limit is {MAX_TASK_PAYLOAD_BYTES}: use a smaller batch_size, or {LARGE_INPUTS}",
        )
    elif size.total > MAX_JOB_PAYLOAD_BYTES:
        add(
            fan_out_field,
            f"the {plan.task_count} tasks' payloads add up to {size.total} bytes (the {size.shared}-byte shared "
            f"payload goes to every task); the limit is {MAX_JOB_PAYLOAD_BYTES}: {LARGE_INPUTS}, or use fewer, "
            "larger batches (batch_size)",
        )


def _largest_batch(sizes: list[int], batch_size: int) -> int:
    """Bytes of the largest batch of consecutive elements, with a separator per element."""
    batches = (sizes[start : start + batch_size] for start in range(0, len(sizes), batch_size))
    return TASK_OVERHEAD_BYTES + max(sum(batch) + len(batch) for batch in batches)


def _chunk_size(plan: Plan) -> int:
    """Bytes of a chunk element at most: its range field, start, index and count."""
    fan_out = plan.fan_out
    assert fan_out is not None and fan_out.chunks is not None
    most = fan_out.total or 0  # no chunk's size, start, index or count exceeds total
    return json_size({fan_out.range_field or "": most, "chunk_start": most, "chunk_index": most, "chunk_count": most})
