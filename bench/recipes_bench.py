"""Recipe latency (not a test): one packing `eval` job end to end on a warm agent, against a cold start.

    python bench/recipes_bench.py [--runs 10]

Warm: submit-to-result latency of `eval` jobs on the embedded platform once its warm worker exists.
Cold: the same evaluation in a fresh interpreter per task (import, kernel load from Numba's cache, score),
which is what running every recipe task as a new process would cost at least.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from computalot import ComputalotClient  # noqa: E402

from recipes.packing.baselines import GRID_BASELINE  # noqa: E402
from tests.conftest_platform import _embedded  # noqa: E402

COLD = f"""
import time, sys
from pathlib import Path
from recipes.packing import RECIPE
class Ctx:
    deadline = time.monotonic() + 60
    output_dir = Path(sys.argv[1])
    def progress(self, **f): pass
RECIPE.run({{"operation": "eval", "candidate": {list(GRID_BASELINE)!r}}}, Ctx())
"""


def cold(runs: int, workdir: Path) -> list[float]:
    """Seconds per evaluation in a fresh interpreter."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", COLD, str(workdir)], check=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return times


def warm(runs: int, workdir: Path) -> tuple[float, list[float]]:
    """(first job's latency, latencies of the next `runs` jobs) on the embedded platform."""
    generator = _embedded(workdir, slots=1)
    platform = next(generator)
    try:
        client = ComputalotClient(platform.url, platform.new_token())

        def one() -> float:
            started = time.perf_counter()
            job = client.submit_recipe("packing", {"operation": "eval", "candidate": list(GRID_BASELINE)})
            assert client.wait(job["id"], timeout_s=600, poll_s=0.02)["status"] == "completed"
            return time.perf_counter() - started

        first = one()
        return first, [one() for _ in range(runs)]
    finally:
        generator.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cold_s = cold(args.runs, Path(tmp))
        (Path(tmp) / "platform").mkdir()
        first_s, warm_s = warm(args.runs, Path(tmp) / "platform")
    cold_median, warm_median = statistics.median(cold_s), statistics.median(warm_s)
    print(f"packing eval, {args.runs} runs each")
    print(f"  cold start (fresh interpreter per task): median {cold_median * 1000:7.1f} ms")
    print(f"  first job on a new agent (spawns the warm worker): {first_s * 1000:7.1f} ms")
    print(f"  warm agent, submit to result:            median {warm_median * 1000:7.1f} ms")
    print(f"  cold / warm: {cold_median / warm_median:.1f}x")


if __name__ == "__main__":
    main()
