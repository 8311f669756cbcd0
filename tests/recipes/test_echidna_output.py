"""Parsing Echidna's `--format json` runs: streamed log and status lines, then the JSON report."""

from __future__ import annotations

import json

import pytest

from recipes.base import RecipeError
from recipes.echidna.output import RunLog, coverage_summary, parse_report, summarize
from tests.recipes.echidna_data.support import DATA


def _feed(name: str) -> RunLog:
    log = RunLog()
    for line in (DATA / name).read_text(encoding="utf-8").rstrip("\n").split("\n"):
        log.feed(line)
    return log


def test_a_property_run_is_summarized_with_the_falsified_test_named_from_the_log():
    # Given the output of an Echidna 2.2 property campaign with one falsified test
    log = _feed("property_2_2.stdout")

    # When it is summarized
    result = summarize(parse_report(log.report), log)

    # Then each test has our status, the failing one its name and shrunk call sequence
    passed, failed = result["tests"]
    assert (passed["status"], passed["echidna_status"], passed["name"], passed["call_sequence"]) == (
        "passed",
        "passed",
        None,
        [],
    )
    assert failed["status"] == "failed" and failed["shrunk"] is True
    assert failed["name"] == "echidna_balance_under_1000"
    assert [c["call"] for c in failed["call_sequence"]] == ["airdrop()", "transfer(0x0,1001)"]
    assert failed["call_sequence"][1]["gas"] == 12500000
    assert failed["events"] == ["Transfer(0, 1001) from: 0x62d69f6867a0a084c6d313943dc22023bc263691"]
    assert (result["passed"], result["failed"], result["errors"]) == (1, 1, 0)
    assert result["seed"] == 2883196342583373287
    assert result["success"] is True and result["error"] is None
    # And the calls come from the last status line, coverage from the report
    assert result["calls"] == 50116
    assert result["coverage"] == {"contracts": 2, "instructions": 5, "corpus_size": 3}
    assert result["falsified"] == ["echidna_balance_under_1000"]


def test_the_last_status_line_wins_and_newer_fields_after_corpus_are_tolerated():
    log = _feed("assertion_2_3.stdout")

    assert log.status == {"failed": 2, "tests": 4, "calls": 20044, "test_limit": 20000, "coverage": 1302, "corpus": 7}


def test_a_newer_report_maps_shrinking_error_and_structured_arguments():
    # Given an Echidna 2.3-style report: string gas/value, `reason`, nested ABI arguments, an errored test
    log = _feed("assertion_2_3.stdout")

    # When it is summarized
    tests = summarize(parse_report(log.report), log)["tests"]

    # Then a test still shrinking at the end is failed but not fully shrunk
    solved, shrinking, passed, errored = tests
    assert (solved["status"], solved["shrunk"], solved["reason"]) == ("failed", True, "ErrorRevert")
    assert (shrinking["status"], shrinking["shrunk"]) == ("failed", False)
    assert [c["call"] for c in shrinking["call_sequence"]] == ["deposit(5)", "*wait*", 'withdraw(6,["0x00ff","hello"])']
    assert solved["call_sequence"][0]["value"] == "1"
    assert passed["status"] == "passed" and passed["shrunk"] is None
    assert errored["status"] == "error" and "UnexpectedSymbolicArg" in errored["error"]


def test_two_falsified_names_for_two_unnamed_failures_are_left_unassigned():
    # Echidna's JSON does not name tests; with two failures the log cannot say which is which
    log = _feed("assertion_2_3.stdout")

    result = summarize(parse_report(log.report), log)

    assert [t["name"] for t in result["tests"]] == [None, None, None, None]
    assert result["falsified"] == ["deposit(uint256)", "withdraw(uint256)"]


def test_names_in_the_report_are_used_as_they_are():
    report = {
        "success": True,
        "tests": [
            {"name": "echidna_a", "status": "solved", "transactions": [{"function": "f", "arguments": []}]},
            {"name": "echidna_b", "status": "fuzzing", "transactions": None},
        ],
    }
    log = RunLog(falsified=["echidna_a"])

    tests = summarize(report, log)["tests"]

    assert [(t["name"], t["status"]) for t in tests] == [("echidna_a", "failed"), ("echidna_b", "passed")]


def test_an_unknown_echidna_status_counts_as_an_error():
    result = summarize({"tests": [{"name": "name", "status": "confused"}]}, RunLog())

    assert result["tests"][0]["status"] == "error" and result["errors"] == 1


def test_the_report_line_is_recognised_and_kept_out_of_the_log_tail():
    log = RunLog()

    kinds = [log.feed(line) for line in ("[2024-01-01 00:00:00.00] [Worker 0] hello", '{"tests":[],"seed":1}')]

    assert kinds == ["log", "report"]
    assert list(log.tail) == ["[2024-01-01 00:00:00.00] [Worker 0] hello"]
    assert json.loads(log.report)["seed"] == 1


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"seed": 1}', '{"tests": {}}'])
def test_a_malformed_report_is_a_recipe_error(text):
    with pytest.raises(RecipeError, match="report"):
        parse_report(text)


def test_coverage_counts_covered_entries_of_every_codehash_and_tolerates_odd_shapes():
    assert coverage_summary({"0x1": [[0, 1, 1], [-1, 0, 0]], "0x2": [[5, 0, 1, 3]], "0x3": []}) == {
        "contracts": 3,
        "instructions": 2,
    }
    assert coverage_summary(None) == {"contracts": 0, "instructions": 0}
