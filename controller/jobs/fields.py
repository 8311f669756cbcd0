"""Collecting the field errors of one submission, so that one 422 names every bad field (pure)."""

from __future__ import annotations

from collections.abc import Callable

from controller.core.errors import field_error

#: Reports one bad field: `add(field, what to change)`.
AddError = Callable[[str, str], None]


class FieldErrors:
    """The bad fields of a submission, in the order they were found; `fan_out` marks a malformed fan-out."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []
        self.fan_out = False

    def add(self, name: str, message: str) -> None:
        """Report field `name` as bad, saying what to change."""
        self.items.append(field_error(name, message))
