"""Benchmark: `prop_amm` simulated steps per second per core, 30 bps constant-product strategy (cp30), 10,000 steps,
on one thread and on every thread, against the reference's published figure.

The reference (S1 README) runs 1,000 sims x 10,000 steps in about 5 s natively on an Apple M3 Pro with its default
of at most 8 worker threads: 2.0e6 steps/s in all, i.e. about 2.5e5 steps/s per worker.

    python bench/prop_amm_bench.py [--seeds 16] [--steps 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba  # noqa: E402
import numpy as np  # noqa: E402

from recipes.prop_amm.simulate import MAX_THREADS, run_seeds  # noqa: E402
from recipes.prop_amm.strategy_build import build_native, load  # noqa: E402

REFERENCE_STEPS = 1000 * 10_000
REFERENCE_SECONDS = 5.0
REFERENCE_WORKERS = 8
CP30 = Path(__file__).resolve().parents[1] / "tests" / "recipes" / "prop_amm_data" / "cp30.rs"


def rate(fns: np.ndarray, seeds: int, steps: int, threads: int, repeat: int) -> tuple[float, float]:
    """(wall-clock, CPU-time) simulated steps per second over `seeds` seeds, best of `repeat` runs.

    On a shared machine the CPU-time rate of a one-thread run is the truer per-core figure.
    """
    wall = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        run_seeds(fns, 0, seeds, steps, strict=True, threads=threads)
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return seeds * steps / wall, seeds * steps / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        strategy = load(build_native(CP30.read_text(), cache_dir=cache))
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_seeds(strategy.fns, 0, 1, 10, strict=True, threads=1)  # compile or load the kernels outside the timing
        warm_s = time.perf_counter() - t0
        threads = min(numba.config.NUMBA_NUM_THREADS, MAX_THREADS)
        one, one_cpu = rate(strategy.fns, args.seeds, args.steps, 1, args.repeat)
        many, _ = rate(strategy.fns, args.seeds, args.steps, threads, args.repeat)

    ref_total = REFERENCE_STEPS / REFERENCE_SECONDS
    ref_per_core = ref_total / REFERENCE_WORKERS
    print(f"rustc build (cold cache)   : {build_s:8.2f} s; kernel compile/load: {warm_s:.2f} s")
    print(f"1 thread, wall clock       : {one:12,.0f} steps/s per core ({args.seeds} seeds x {args.steps} steps)")
    print(f"1 thread, CPU time         : {one_cpu:12,.0f} steps/s per core")
    print(f"{threads} threads                  : {many:12,.0f} steps/s ({many / threads:,.0f} per core)")
    print(f"parallel speed-up          : {many / one:12.2f}x on {threads} threads")
    print(f"reference (M3 Pro, 8 wkrs) : {ref_total:12,.0f} steps/s ({ref_per_core:,.0f} per core)")
    print(f"per core vs reference      : {one / ref_per_core:12.2f}x wall, {one_cpu / ref_per_core:.2f}x CPU time")
    print(f"1,000 x 10,000 here        : {REFERENCE_STEPS / many:8.1f} s on {threads} threads (reference ~5 s)")


if __name__ == "__main__":
    main()
