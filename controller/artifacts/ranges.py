"""HTTP `Range` headers for downloads (pure): one byte range, or the whole body."""

from __future__ import annotations

import re

_RANGE_RE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")
#: Digits read of a position; longer ones are past any object's end (and `int()` refuses over 4,300 digits).
_MAX_DIGITS = 18


class Unsatisfiable(Exception):
    """The range lies outside the object (answered with 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte positions, inclusive, asked for by a `Range` header on an object of `size` bytes.

    None means "send the whole object": no header, another unit, several ranges, or a malformed value
    (RFC 9110 lets a server ignore those).

    Raises:
      Unsatisfiable: a single well-formed byte range that starts past the end.
    """
    if not header:
        return None
    match = _RANGE_RE.match(header)
    if match is None:
        return None
    first, last = (_clamp(value) for value in match.groups())
    if not first and not last:
        return None
    if not first:  # a suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise Unsatisfiable(header)
        return max(size - length, 0), size - 1
    start = int(first)
    end = size - 1 if not last else min(int(last), size - 1)
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable(header)
    return start, end


def _clamp(digits: str) -> str:
    """A decimal position, or one past any object's size if it has too many digits to matter."""
    significant = digits.lstrip("0") or digits[:1]  # "" stays absent, "000" is 0
    return "9" * _MAX_DIGITS if len(significant) > _MAX_DIGITS else significant
