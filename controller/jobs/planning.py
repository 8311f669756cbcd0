"""Fan-out planning: how a job becomes tasks (pure: no I/O).

A job has `element_count` elements (list values, items or chunks; 1 without fan-out).
`batch_size` groups consecutive elements into one task. Task payloads are computed on
demand from the spec, so planning 100,000 tasks stores no per-task payload. Each job kind
(`controller.jobs.kinds`) says how its spec becomes a `Plan`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from controller.jobs.fanout import FanOut


@dataclass(frozen=True)
class Plan:
    """The tasks of one job."""

    payload: dict[str, Any]
    fan_out: FanOut | None = None

    @property
    def element_count(self) -> int:
        fan_out = self.fan_out
        if fan_out is None:
            return 1
        if fan_out.by is not None:
            return len(self.payload[fan_out.by])
        if fan_out.items is not None:
            return len(fan_out.items)
        assert fan_out.chunks is not None
        return fan_out.chunks

    @property
    def batch_size(self) -> int:
        return 1 if self.fan_out is None else self.fan_out.batch_size

    @property
    def batched(self) -> bool:
        return self.batch_size > 1

    @property
    def task_count(self) -> int:
        return -(-self.element_count // self.batch_size)

    def elements(self, index: int) -> range:
        """Element indices covered by task `index`."""
        start = index * self.batch_size
        return range(start, min(start + self.batch_size, self.element_count))

    def task_payload(self, index: int) -> dict[str, Any]:
        """The payload task `index` receives."""
        fan_out = self.fan_out
        if fan_out is None:
            return self.payload
        elements = self.elements(index)
        if fan_out.by is not None:
            values = self.payload[fan_out.by]
            chosen = [values[i] for i in elements]
            return {**self.payload, fan_out.by: chosen if self.batched else chosen[0]}
        parts = [self._element_payload(i) for i in elements]
        if self.batched:
            return {**self.payload, "batch": parts}
        return {**self.payload, **parts[0]}

    def _element_payload(self, element: int) -> dict[str, Any]:
        fan_out = self.fan_out
        assert fan_out is not None
        if fan_out.items is not None:
            return fan_out.items[element]
        start, size = chunk_bounds(fan_out.total or 0, fan_out.chunks or 1, element)
        return {
            fan_out.range_field or "": size,
            "chunk_start": start,
            "chunk_index": element,
            "chunk_count": fan_out.chunks,
        }

    def element_key(self, element: int) -> str:
        """A readable key of an element: the `by` value, the item's index, or `start-end` of a chunk."""
        fan_out = self.fan_out
        if fan_out is None or fan_out.items is not None:
            return str(element)
        if fan_out.by is not None:
            value = self.payload[fan_out.by][element]
            return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        start, size = chunk_bounds(fan_out.total or 0, fan_out.chunks or 1, element)
        return f"{start}-{start + size}"


def chunk_bounds(total: int, chunks: int, index: int) -> tuple[int, int]:
    """(start, size) of chunk `index` when 0..total is cut into `chunks` parts differing by at most one."""
    base, extra = divmod(total, chunks)
    start = index * base + min(index, extra)
    return start, base + (1 if index < extra else 0)
