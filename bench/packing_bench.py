"""Benchmark: `packing` candidates scored per second per core, Numba kernel against the pure-Python reference.

Both score the same kind of candidates, tight packings jittered so that many pairs are near-touching (the load an
optimizer generates). The kernel runs `evaluate_batch` on one thread (per core), then on every thread.

    python bench/packing_bench.py [--kernel-candidates 20000] [--reference-candidates 40]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba  # noqa: E402
import numpy as np  # noqa: E402

from recipes.packing.constants import N_PAIRS  # noqa: E402
from recipes.packing.kernels import INFO_WIDTH, evaluate_batch  # noqa: E402
from recipes.packing.scoring import round6  # noqa: E402
from tests.recipes import packing_reference as reference  # noqa: E402
from tests.recipes.packing_support import GRID, P5_BEST, SEVEN_DISKS  # noqa: E402


def candidates(count: int, seed: int) -> list[list[float]]:
    """Tight packings jittered by 1e-5 to 1e-2, rounded to 6 dp."""
    rng = random.Random(seed)
    bases = [P5_BEST, GRID, SEVEN_DISKS]
    scales = [1e-5, 1e-4, 1e-3, 1e-2]
    return [round6([v + rng.gauss(0.0, scales[k % len(scales)]) for v in bases[k % len(bases)]]) for k in range(count)]


def kernel_rate(cands: np.ndarray, threads: int) -> float:
    """Candidates per second of `evaluate_batch` on `threads` threads (best of 3 runs)."""
    numba.set_num_threads(threads)
    info = np.empty((cands.shape[0], INFO_WIDTH))
    areas = np.empty((cands.shape[0], N_PAIRS))
    evaluate_batch(cands[:8], info[:8], areas[:8])  # compile or load from cache outside the timing
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        evaluate_batch(cands, info, areas)
        best = min(best, time.perf_counter() - start)
    return cands.shape[0] / best


def reference_rate(cands: list[list[float]]) -> float:
    """Candidates per second of the pure-Python reference scorer (one core)."""
    start = time.perf_counter()
    for values in cands:
        reference.score(values)
    return len(cands) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel-candidates", type=int, default=20000)
    parser.add_argument("--reference-candidates", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    pool = candidates(max(args.kernel_candidates, args.reference_candidates), args.seed)
    threads = numba.config.NUMBA_NUM_THREADS
    cands = np.asarray(pool[: args.kernel_candidates], dtype=np.float64)
    per_core = kernel_rate(cands, 1)
    all_threads = kernel_rate(cands, threads)
    ref = reference_rate(pool[: args.reference_candidates])

    print(f"numba kernel, 1 thread : {per_core:12,.0f} candidates/s per core ({args.kernel_candidates} candidates)")
    print(f"numba kernel, {threads} threads: {all_threads:12,.0f} candidates/s ({all_threads / threads:,.0f} per core)")
    print(f"python reference       : {ref:12,.1f} candidates/s per core ({args.reference_candidates} candidates)")
    print(f"speed-up per core      : {per_core / ref:12,.0f}x")


if __name__ == "__main__":
    main()
