"""JSON decoding with its nesting checked first, by a scan that does not recurse."""

from __future__ import annotations

import json

import pytest

from controller.core import json_depth
from controller.core.errors import BadRequest, TooDeep
from controller.core.json_depth import MAX_JSON_DEPTH, nesting_depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('"[[["', 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["]", "[", {"k]": "}"}]', 2),
        ('["\\"[", ["\\\\"]]', 2),
        ('"\\\\" [[', 2),
        ("[[[]][]]", 3),
    ],
)
def test_the_scan_counts_brackets_outside_strings_only(text: str, depth: int) -> None:
    # Given JSON whose strings hold brackets, quotes and backslashes, Then only real nesting counts
    assert nesting_depth(text) == depth


def test_the_scan_measures_a_million_levels_without_recursing() -> None:
    # Given far deeper nesting than any stack holds, When scanned, Then the count stops just past the limit
    assert nesting_depth("[" * 1_000_000, stop_above=100) == 101


def test_json_at_the_limit_decodes() -> None:
    text = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json_depth.loads(text.encode()) == json.loads(text)


@pytest.mark.parametrize(
    "text", ["[" * (MAX_JSON_DEPTH + 1), "[" * 65536, '{"a":' * 20000, '{"a": ' + "[" * MAX_JSON_DEPTH]
)
def test_json_past_the_limit_is_refused_as_too_deep_before_decoding(text: str) -> None:
    # Given nesting one level past the limit or far beyond (even unterminated)
    # When decoded, Then it is a 422 too_deep naming the limit
    with pytest.raises(TooDeep) as refused:
        json_depth.loads(text.encode())
    assert refused.value.status == 422 and refused.value.code == "too_deep"
    assert refused.value.details == {"limit": MAX_JSON_DEPTH, "where": "the request body"}


@pytest.mark.parametrize(
    "data",
    [b"{", b"NaN", b"[Infinity]", b'{"a": -Infinity}', b"9" * 5000, b"\xff\xfe\xfd", b'"\\ud800"', b'{"\\udfff": 1}'],
)
def test_input_that_is_not_strict_json_or_unicode_is_a_bad_request(data: bytes) -> None:
    # Given truncated JSON, NaN or Infinity, an integer past 4,300 digits, bytes that are no text, a lone surrogate
    # When decoded, Then it is a 400 bad_request, never a crash or a value no database can store
    with pytest.raises(BadRequest):
        json_depth.loads(data)


def test_a_surrogate_pair_and_an_escaped_backslash_decode() -> None:
    assert json_depth.loads(b'["\\ud83d\\ude00", "\\\\ud800"]') == ["\U0001f600", "\\ud800"]
