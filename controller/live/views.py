"""Public JSON shape of an event."""

from __future__ import annotations

from typing import Any

from controller.core.web import iso
from controller.live.models import Event


def event_json(event: Event) -> dict[str, Any]:
    return {
        "seq": event.id,
        "kind": event.kind,
        "job_id": event.job_id,
        "data": event.data,
        "created_at": iso(event.created_at),
    }
