"""Parsing `Range` headers of artifact downloads."""

from __future__ import annotations

import pytest

from controller.artifacts.ranges import Unsatisfiable, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-9", (0, 9)),
        ("bytes=10-", (10, 99)),
        ("bytes=90-500", (90, 99)),
        ("bytes=-5", (95, 99)),
        ("bytes=-500", (0, 99)),
        ("bytes = 3 - 4", (3, 4)),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=9-3", None),
        ("bytes=-", None),
    ],
)
def test_a_range_header_selects_bytes_of_a_100_byte_object(header: str | None, expected: tuple[int, int]) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=100-", 100), ("bytes=500-600", 100), ("bytes=-0", 100)])
def test_a_range_past_the_end_is_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, size)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-" + "9" * 5000, (0, 99)),
        ("bytes=-" + "9" * 5000, (0, 99)),
        ("bytes=" + "0" * 5000 + "1-2", (1, 2)),
    ],
)
def test_a_range_with_thousands_of_digits_is_read_as_a_position_past_any_end(
    header: str, expected: tuple[int, int]
) -> None:
    # Given a position longer than int() converts (4,300 digits), When it is parsed, Then it clamps to the object
    assert parse_range(header, 100) == expected


def test_a_range_starting_thousands_of_digits_in_is_unsatisfiable() -> None:
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=" + "9" * 5000 + "-", 100)
