"""JSON decoding with a nesting limit checked first, by a scan without recursion, so no input can exhaust the stack."""

from __future__ import annotations

import json
import re
from typing import Any

from controller.core.errors import BadRequest, TooDeep

#: Deepest nesting of arrays and objects any JSON the controller reads may have: a bound for the decoder, above the
#: 64 levels a job's field may nest (`controller.jobs.limits.MAX_DEPTH`) plus the envelopes around it (batch,
#: fan-out), so that check still names the field.
MAX_JSON_DEPTH = 100

# A string literal, escapes included; an unterminated one runs to the end (the decoder refuses it afterwards).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def nesting_depth(text: str, stop_above: int = MAX_JSON_DEPTH) -> int:
    """How deep arrays and objects nest in `text`, brackets inside strings ignored; counting stops past `stop_above`."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


def check_depth(text: str, what: str, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON text whose arrays and objects nest deeper than `max_depth`.

    Raises:
      TooDeep: naming `what` and the limit.
    """
    if nesting_depth(text, max_depth) > max_depth:
        raise TooDeep(
            f"{what} nests arrays and objects more than {max_depth} levels deep",
            details={"limit": max_depth, "where": what},
        )


def loads(data: bytes | str, *, what: str = "the request body", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`data` decoded as JSON, after checking its nesting.

    Raises:
      TooDeep: arrays and objects nest deeper than `max_depth` (details: limit, where).
      BadRequest: not JSON (NaN and Infinity included), or not UTF-8, UTF-16 or UTF-32 text.
    """
    try:
        text = data if isinstance(data, str) else data.decode(json.detect_encoding(data))
    except (UnicodeDecodeError, LookupError):
        raise BadRequest(f"{what} is not UTF-8 text") from None
    check_depth(text, what, max_depth)
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(text) and not _encodable(value):
        raise BadRequest(f"{what} has a string with a lone UTF-16 surrogate (\\ud800-\\udfff); send valid Unicode")
    return value


def _refuse_constant(name: str) -> Any:
    # Python's decoder accepts NaN and Infinity; JSON has no such numbers, and PostgreSQL's JSON refuses them.
    raise ValueError(f"{name} is not a JSON number")


def _encodable(value: Any) -> bool:
    # A lone surrogate escape decodes to a str that cannot be encoded, so no database or client could store it.
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True
