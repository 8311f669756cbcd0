"""Benchmark: what the task sandbox adds to starting a task, the same trivial Python runner with and without it.

Both go through agent.runner.Run (payload and result files, output pipes, supervision); the sandboxed one adds
bubblewrap, prlimit and the private copy of a one-file tree. Runs alternate so load drifts hit both alike.
Run as root (the sandbox then switches to its uid range, as an agent does).

    python bench/sandbox_bench.py [--runs 200] [--python /usr/bin/python3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.runner import Run, RunSpec  # noqa: E402
from agent.sandbox import Limits, Sandbox  # noqa: E402

TASK = 'import os; open(os.environ["COMPUTALOT_TASK_RESULT"], "w").write("{}")\n'


def quiet(*_: object) -> None:
    """Output and progress callbacks that drop what they get."""


def plain(python: str, tree: Path, scratch: Path) -> float:
    """Seconds to run the task directly (as the agent's user)."""
    spec = RunSpec((python, "task.py"), tree, scratch, {}, 30)
    began = time.perf_counter()
    outcome = Run(spec, quiet, quiet).execute()
    assert outcome.status == "completed", outcome.output_tail
    return time.perf_counter() - began


def sandboxed(python: str, tree: Path, sandbox: Sandbox, index: int) -> float:
    """Seconds to prepare a cell and run the task in it (the cell's removal is not counted)."""
    began = time.perf_counter()
    cell = sandbox.open(f"bench-{index}", tree, ".", Limits(memory_mb=2048))
    spec = RunSpec((python, "task.py"), cell.host_workdir(), cell.task, {}, 30, sandbox=cell, log=cell.log)
    outcome = Run(spec, quiet, quiet).execute()
    elapsed = time.perf_counter() - began
    assert outcome.status == "completed", outcome.output_tail
    sandbox.close(cell)
    return elapsed


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile of `values`, in milliseconds."""
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1] * 1000


def main() -> None:
    """Alternate plain and sandboxed runs; print p50/p90 of each and what the sandbox adds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--python", default="/usr/bin/python3", help="the interpreter both runs use (absolute)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sandbox-bench-", dir="/var/tmp"))
    work.chmod(0o711)  # the sandbox uids must reach the cells under it
    try:
        tree = work / "tree"
        tree.mkdir()
        (tree / "task.py").write_text(TASK)
        sandbox = Sandbox(work / "cells", 2_100_000, 1)
        sandbox.check()
        times: dict[str, list[float]] = {"plain": [], "sandboxed": []}
        for index in range(args.runs):
            times["plain"].append(plain(args.python, tree, work / "scratch"))
            times["sandboxed"].append(sandboxed(args.python, tree, sandbox, index))
        for name, values in times.items():
            print(f"{name:>10}: p50 {percentile(values, 0.5):7.1f} ms   p90 {percentile(values, 0.9):7.1f} ms")
        added50 = percentile(times["sandboxed"], 0.5) - percentile(times["plain"], 0.5)
        added90 = percentile(times["sandboxed"], 0.9) - percentile(times["plain"], 0.9)
        print(f"{'added':>10}: p50 {added50:7.1f} ms   p90 {added90:7.1f} ms   ({args.runs} runs each, {args.python})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
