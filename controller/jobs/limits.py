"""Limits on what one submission may ask for, checked before anything is planned (pure: no I/O).

Every limit is measured arithmetically or by one iterative walk, never by building the tasks: a job that
breaks one is refused with a 422 naming the field and saying what to send instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from controller.jobs.fields import AddError

#: Deepest nesting of any submitted JSON value (a field's value is level 1); deeper is refused.
MAX_DEPTH = 64
#: Integers a task message can carry (msgpack's range); larger ones must travel as strings.
MIN_INT, MAX_INT = -(2**63), 2**64 - 1
#: Elements one task may carry (`batch_size`).
MAX_BATCH_SIZE = 1_000
#: Elements of one job: `by` list values, `items`, `chunks`.
MAX_ELEMENTS = 1_000_000
#: Runs of one benchmark: candidates × replicas.
MAX_BENCHMARK_RUNS = 10_000
#: Largest payload one task may receive, in bytes of compact JSON (the shared payload plus its batch).
MAX_TASK_PAYLOAD_BYTES = 4 * 1024 * 1024
#: Payload bytes of all of a job's tasks together (the shared payload counts once per task).
MAX_JOB_PAYLOAD_BYTES = 256 * 1024 * 1024
#: Bytes a planned task adds around its elements (keys, brackets, separators), for the size bounds.
TASK_OVERHEAD_BYTES = 64
#: Arguments of a command (`runner_command`, `reduce.runner_command`).
MAX_COMMAND_ARGS = 256
#: Characters of one command argument.
MAX_COMMAND_ARG_CHARS = 8192
#: Ids in `depends_on`.
MAX_DEPENDS_ON = 100
#: A project or recipe name: the characters project names are made of.
NAME_RE = re.compile(r"[a-z0-9_-]{1,63}")
#: A candidate, parameter or field name: letters, digits and `_ . : + / -`, not starting with a separator.
KEY_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:+/-]{0,127}")
#: What to do about a payload that is too large.
LARGE_INPUTS = "put large inputs in an artifact and pass its id in `_artifacts.download` (see Artifacts)"

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def json_size(value: Any) -> int:
    """Bytes of `value` as compact UTF-8 JSON (only for values whose depth was checked)."""
    return len(_ENCODER.encode(value).encode())


def value_problem(value: Any) -> str | None:
    """Why a submitted JSON value cannot be planned (too deep, an integer out of range), or None.

    Iterative, so a value nested thousands of levels deep is measured without recursion.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels; flatten it, or {LARGE_INPUTS}"
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
        elif type(node) is int and not MIN_INT <= node <= MAX_INT:
            return f"holds an integer outside {MIN_INT}..{MAX_INT}; send such numbers as strings"
    return None


def check_values(body: dict[str, Any], add: AddError) -> None:
    """Every field of a submission body is shallow enough and its integers fit a task message."""
    for name, value in body.items():
        problem = value_problem(value)
        if problem is not None:
            add(name, problem)


def check_command(name: str, command: Sequence[str], add: AddError) -> None:
    """A command's arguments: at most MAX_COMMAND_ARGS, each bounded and without NUL (no program can take one)."""
    if len(command) > MAX_COMMAND_ARGS:
        add(name, f"has {len(command)} arguments; the limit is {MAX_COMMAND_ARGS}: put long inputs in the payload")
    for i, arg in enumerate(command):
        if "\x00" in arg:
            add(f"{name}[{i}]", "contains a NUL character, which no command argument can hold; remove it")
        elif len(arg) > MAX_COMMAND_ARG_CHARS:
            add(f"{name}[{i}]", f"is {len(arg)} characters; the limit is {MAX_COMMAND_ARG_CHARS}: use the payload")


def check_name(name: str, value: Any, add: AddError) -> bool:
    """A project or recipe name; False (and an error) unless it matches NAME_RE."""
    if isinstance(value, str) and NAME_RE.fullmatch(value):
        return True
    add(name, "must be 1 to 63 characters of a-z, 0-9, '-' or '_'")
    return False


_KEY_RULE = "1 to 128 characters of letters, digits and _ . : + / -, starting with a letter, digit or _"


def check_key(name: str, value: Any, add: AddError) -> bool:
    """A field name (`range_field`); False (and an error) unless it matches KEY_RE."""
    if isinstance(value, str) and KEY_RE.fullmatch(value):
        return True
    add(name, f"must be {_KEY_RULE}")
    return False


def check_keys(name: str, keys: Iterable[Any], add: AddError) -> bool:
    """Candidate or parameter names; False (and one error naming the first bad one) unless all match KEY_RE."""
    bad = [key for key in keys if not (isinstance(key, str) and KEY_RE.fullmatch(key))]
    if not bad:
        return True
    first = str(bad[0])
    shown = first if len(first) <= 64 else first[:64] + "…"
    add(name, f"{len(bad)} names break the rule, the first {shown!r}: each name must be {_KEY_RULE}")
    return False


def check_elements(name: str, count: int, add: AddError) -> bool:
    """A fan-out's element count; False (and an error) above MAX_ELEMENTS."""
    if count <= MAX_ELEMENTS:
        return True
    add(name, f"has {count} elements; the limit is {MAX_ELEMENTS}: give each element more work, or split the job")
    return False
