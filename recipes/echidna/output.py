"""Reading Echidna's `--format json` run: its log lines as they stream, then the final JSON report.

In non-interactive mode Echidna prints timestamped log lines (`[…] [Worker 0] Test echidna_x falsified!`), a
`[status]` line every few seconds, and, last, one JSON object (`Echidna.Output.JSON`): `success`, `error`, `seed`,
`tests` (each: `contract`, `name`, `status`, `error`, `events`, `type`, `transactions`, and in newer versions
`reason`), `coverage` (codehash -> one entry per instruction; an entry whose first number is -1 was not covered)
and, before 2.2.5, `gas_info`. Echidna 2.x leaves each test's `name` as the placeholder "name"; a test's real name
is taken from the log when the log pins it down.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from recipes.base import RecipeError

STATUS_LINE = re.compile(
    r"\[status\] tests: (?P<failed>\d+)/(?P<tests>\d+), fuzzing: (?P<calls>\d+)/(?P<test_limit>\d+)"
    r".*?cov: (?P<coverage>\d+), corpus: (?P<corpus>\d+)"
)
FALSIFIED_LINE = re.compile(r"\] Test (?P<name>.+?) falsified!")
#: Echidna status -> our status; `fuzzing` (still open when the campaign ended) means no counterexample was found.
STATUSES = {
    "passed": "passed",
    "fuzzing": "passed",
    "verified": "passed",
    "solved": "failed",
    "shrinking": "failed",
    "error": "error",
}
PLACEHOLDER_NAMES = frozenset({"", "name"})
TAIL_LINES = 40


@dataclass
class RunLog:
    """What the streamed output has told so far."""

    report: str | None = None
    status: dict[str, int] | None = None
    falsified: list[str] = field(default_factory=list)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))

    def feed(self, line: str) -> str:
        """Take one stdout line; returns its kind: `report`, `status`, `falsified` or `log`."""
        text = line.strip()
        if text.startswith("{") and '"tests"' in text:
            self.report = text
            return "report"
        self.tail.append(line)
        status = STATUS_LINE.search(text)
        if status:
            self.status = {k: int(v) for k, v in status.groupdict().items()}
            return "status"
        falsified = FALSIFIED_LINE.search(text)
        if falsified:
            if falsified["name"] not in self.falsified:
                self.falsified.append(falsified["name"])
            return "falsified"
        return "log"


def parse_report(text: str) -> dict[str, Any]:
    """The JSON report as a dict.

    Raises:
        RecipeError: the text is not a JSON object with a `tests` list.
    """
    try:
        report = json.loads(text)
    except ValueError as exc:
        raise RecipeError(f"Echidna's JSON report is malformed: {exc}") from exc
    if not isinstance(report, dict) or not isinstance(report.get("tests"), list):
        raise RecipeError("Echidna's JSON report has no `tests` list")
    return report


def _render(argument: Any) -> str:
    return argument if isinstance(argument, str) else json.dumps(argument, separators=(",", ":"))


def call(tx: dict[str, Any]) -> dict[str, Any]:
    """One call of a sequence, with a readable `call` line such as `transfer(0x10000,1001)`."""
    arguments = tx.get("arguments")
    rendered = str(tx.get("function") or "?") + (
        f"({','.join(map(_render, arguments))})" if arguments is not None else ""
    )
    return {
        "call": rendered,
        "function": tx.get("function"),
        "arguments": arguments,
        "contract": tx.get("contract") or None,
        "value": tx.get("value"),
        "gas": tx.get("gas"),
        "gasprice": tx.get("gasprice"),
    }


def test_result(index: int, test: dict[str, Any]) -> dict[str, Any]:
    """One test of the report in this recipe's terms (status passed/failed/error)."""
    raw = str(test.get("status", ""))
    status = STATUSES.get(raw, "error")
    name = test.get("name")
    return {
        "index": index,
        "name": None if name in PLACEHOLDER_NAMES else name,
        "status": status,
        "echidna_status": raw,
        "type": test.get("type"),
        "error": test.get("error"),
        "reason": test.get("reason"),
        "events": test.get("events") or [],
        # Echidna's reproducer: shrunk as far as shrink_limit allowed ("solved" = fully shrunk).
        "call_sequence": [call(tx) for tx in test.get("transactions") or []],
        "shrunk": (raw == "solved") if status == "failed" else None,
    }


def name_from_log(tests: list[dict[str, Any]], falsified: list[str]) -> None:
    """Name the one unnamed failed test when the log reports exactly one falsified name."""
    unnamed = [t for t in tests if t["status"] == "failed" and t["name"] is None]
    named = {t["name"] for t in tests if t["name"] is not None}
    left = [n for n in falsified if n not in named]
    if len(unnamed) == 1 and len(left) == 1:
        unnamed[0]["name"] = left[0]


def coverage_summary(coverage: Any) -> dict[str, int]:
    """Contracts (codehashes) with coverage data and the instructions covered in them."""
    if not isinstance(coverage, dict):
        return {"contracts": 0, "instructions": 0}
    covered = sum(
        1
        for entries in coverage.values()
        for entry in entries or []
        if not (isinstance(entry, list) and entry and entry[0] == -1)
    )
    return {"contracts": len(coverage), "instructions": covered}


def summarize(report: dict[str, Any], log: RunLog) -> dict[str, Any]:
    """The run's result: per-test outcomes, counts, coverage, calls made, seed."""
    tests = [test_result(i, t) for i, t in enumerate(report["tests"]) if isinstance(t, dict)]
    name_from_log(tests, log.falsified)
    status = log.status or {}
    return {
        "success": report.get("success"),
        "error": report.get("error"),
        "seed": report.get("seed"),
        "passed": sum(t["status"] == "passed" for t in tests),
        "failed": sum(t["status"] == "failed" for t in tests),
        "errors": sum(t["status"] == "error" for t in tests),
        "tests": tests,
        "falsified": list(log.falsified),
        "calls": status.get("calls"),
        "coverage": {**coverage_summary(report.get("coverage")), "corpus_size": status.get("corpus")},
    }
