"""`output` events: the newest lines since the last flush, within the line and byte caps."""

from __future__ import annotations

from controller.live.output_events import MAX_BYTES, MAX_LINE_CHARS, MAX_LINES, PendingOutput


def test_nothing_received_gives_no_event() -> None:
    assert PendingOutput().take() is None


def test_few_lines_come_whole_and_in_order() -> None:
    pending = PendingOutput()
    pending.add(["a", "b"])
    pending.add(["c"])
    assert pending.take() == {"lines": ["a", "b", "c"], "dropped": 0}
    assert pending.take() is None


def test_a_flood_keeps_the_newest_lines_and_counts_the_rest() -> None:
    # Given 50,000 lines in two frames
    pending = PendingOutput()
    pending.add([f"line {i}" for i in range(30_000)])
    pending.add([f"line {i}" for i in range(30_000, 50_000)])

    # When the event is taken
    event = pending.take()

    # Then it holds the last MAX_LINES lines, ending with the very last one, and counts the others
    assert event is not None
    assert len(event["lines"]) == MAX_LINES and event["lines"][-1] == "line 49999"
    assert event["dropped"] == 50_000 - MAX_LINES


def test_long_lines_are_cut_and_the_event_stays_within_the_byte_cap() -> None:
    pending = PendingOutput()
    pending.add(["x" * 100_000] * 50)
    event = pending.take()
    assert event is not None
    assert all(len(line) <= MAX_LINE_CHARS + 1 for line in event["lines"])
    assert sum(len(line.encode()) + 1 for line in event["lines"]) <= MAX_BYTES
    assert event["dropped"] == 50 - len(event["lines"]) > 0
