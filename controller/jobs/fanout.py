"""Fan-out shapes of a submission (`by`, `items`, `chunks`): validation and stored form (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controller.jobs.fields import FieldErrors
from controller.jobs.limits import MAX_BATCH_SIZE, check_elements, check_key

FAN_OUT_SHAPES = ("by", "items", "chunks")


@dataclass(frozen=True)
class FanOut:
    """One validated fan-out shape, plus the optional batch size."""

    by: str | None = None
    items: tuple[dict[str, Any], ...] | None = None
    chunks: int | None = None
    range_field: str | None = None
    total: int | None = None
    batch_size: int = 1

    @property
    def shape(self) -> str:
        return "by" if self.by is not None else "items" if self.items is not None else "chunks"


def parse_fan_out(value: Any, payload: dict[str, Any], errors: FieldErrors, name: str = "fan_out") -> FanOut | None:
    """A fan-out submitted under `name` (`fan_out`, or a map_reduce `split`); None when absent or malformed."""
    if value is None:
        return None
    before = len(errors.items)
    fan_out = _shape(value, payload, errors)
    if name != "fan_out":
        for error in errors.items[before:]:
            error["field"] = name + error["field"][len("fan_out") :]
    if len(errors.items) > before:
        errors.fan_out = True
        return None
    return fan_out


def _shape(value: Any, payload: dict[str, Any], errors: FieldErrors) -> FanOut | None:
    if not isinstance(value, dict):
        errors.add("fan_out", 'must be an object with exactly one of "by", "items" or "chunks"')
        return None
    shapes = [s for s in FAN_OUT_SHAPES if s in value]
    if len(shapes) != 1:
        found = ", ".join(shapes) or "none"
        errors.add("fan_out", f'choose exactly one fan-out shape of "by", "items", "chunks" (found: {found})')
        return None
    allowed = {"by"} if shapes == ["by"] else {"items"} if shapes == ["items"] else {"chunks", "range_field", "total"}
    for key in sorted(set(value) - allowed - {"batch_size"}):
        errors.add(f"fan_out.{key}", f"not valid with the {shapes[0]!r} shape")
    batch_size = value.get("batch_size", 1)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        errors.add(
            "fan_out.batch_size",
            f"must be an integer from 1 to {MAX_BATCH_SIZE} (elements per task); give each element more work instead",
        )
        batch_size = 1
    shape = shapes[0]
    if shape == "by":
        name = value["by"]
        if not isinstance(name, str) or not isinstance(payload.get(name), list) or not payload[name]:
            errors.add("fan_out.by", "must name a payload field holding a non-empty list")
            return None
        if not check_elements("fan_out.by", len(payload[name]), errors.add):
            return None
        return FanOut(by=name, batch_size=batch_size)
    if shape == "items":
        items = value["items"]
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            errors.add("fan_out.items", "must be a non-empty list of objects")
            return None
        if not check_elements("fan_out.items", len(items), errors.add):
            return None
        return FanOut(items=tuple(items), batch_size=batch_size)
    return _chunks(value, batch_size, errors)


def _chunks(value: dict[str, Any], batch_size: int, errors: FieldErrors) -> FanOut:
    chunks, range_field, total = value.get("chunks"), value.get("range_field"), value.get("total")
    if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1:
        errors.add("fan_out.chunks", "must be a positive integer")
    else:
        check_elements("fan_out.chunks", chunks, errors.add)
    if not isinstance(range_field, str) or not range_field:
        errors.add("fan_out.range_field", "required with chunks: the payload field that receives each chunk's size")
    else:
        check_key("fan_out.range_field", range_field, errors.add)
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        errors.add("fan_out.total", "required with chunks: a positive integer, the size of the range 0..total")
    elif isinstance(chunks, int) and chunks > total:
        errors.add("fan_out.chunks", f"must not exceed total ({total})")
    return FanOut(chunks=chunks, range_field=range_field, total=total, batch_size=batch_size)


def fan_out_to_json(fan_out: FanOut | None) -> dict[str, Any] | None:
    """The stored form of a fan-out: its set keys only."""
    if fan_out is None:
        return None
    data = {
        "by": fan_out.by,
        "items": list(fan_out.items) if fan_out.items is not None else None,
        "chunks": fan_out.chunks,
        "range_field": fan_out.range_field,
        "total": fan_out.total,
        "batch_size": fan_out.batch_size,
    }
    return {k: v for k, v in data.items() if v is not None}


def fan_out_from_json(data: dict[str, Any] | None) -> FanOut | None:
    """A stored fan-out read back."""
    if data is None:
        return None
    items = data.get("items")
    return FanOut(**{**data, "items": None if items is None else tuple(items)})
