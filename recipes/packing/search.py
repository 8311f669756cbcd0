"""What the three optimizers share: the seeded run state, the search box, the local search and progress (spec §6)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recipes.base import RecipeContext
from recipes.packing.constants import N_PAIRS, N_SHAPES, N_VALUES
from recipes.packing.kernels import evaluate
from recipes.packing.search_kernels import ADAPT_EVERY, is_better, local_search_chunk, score_state, score_states

#: Local-search proposals used by basin-hopping refinement and the DE polish.
REFINE_PROPOSALS = 2000
SIGMA0 = 0.05
#: Half-width floor of the search box: the grid baseline's R.
BOX_MIN_HALF_WIDTH = 3.5
#: Seconds kept free before the context deadline for the final re-score and the result.
DEADLINE_MARGIN_S = 0.5
#: Seconds between progress reports.
PROGRESS_EVERY_S = 1.0
#: Most candidates scored between two time checks.
TIME_CHECK_EVERY = 100
MAX_TRACE = 200


@dataclass
class SearchRun:
    """Mutable state of one optimizer run: generator, box, best-so-far, counters, trace, clock."""

    ctx: RecipeContext
    rng: np.random.Generator
    penalty: float
    box: np.ndarray
    stop_at: float
    best: np.ndarray = field(default_factory=lambda: np.zeros(N_VALUES))
    best_state: np.ndarray = field(default_factory=lambda: np.array([0.0, math.inf, math.inf]))
    evaluations: int = 0
    accepted: int = 0
    timed_out: bool = False
    trace: list[list[Any]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    last_report: float = -math.inf

    def out_of_time(self) -> bool:
        """True once the time limit (or the context deadline) is reached; sticky."""
        if not self.timed_out and time.monotonic() >= self.stop_at:
            self.timed_out = True
        return self.timed_out

    def offer(self, cand: np.ndarray, state: np.ndarray, iteration: int) -> None:
        """Make `cand` the best if it is better under the feasibility-first order."""
        if is_better(state, self.best_state):
            self.best[:] = cand
            self.best_state[:] = state
            self.trace.append([int(iteration), float(state[2]), bool(state[0] > 0.5)])

    def record(self, improvements: np.ndarray, iteration: int, add_offsets: bool) -> None:
        """Trace the best's improvements made inside a kernel, rows [proposal offset, objective, valid]."""
        for offset, objective, valid in improvements:
            self.trace.append([iteration + int(offset) * add_offsets, float(objective), bool(valid > 0.5)])

    def score(self, cand: np.ndarray) -> np.ndarray:
        """State [valid, radius, objective] of one candidate."""
        state = np.empty(3)
        score_state(cand, np.empty(N_PAIRS), self.penalty, state)
        self.evaluations += 1
        return state

    def score_many(self, cands: np.ndarray) -> tuple[np.ndarray, int]:
        """States of the rows, scored in parallel, checking the clock every TIME_CHECK_EVERY rows.

        Returns (states, number of rows scored before the time ran out).
        """
        states = np.full((cands.shape[0], 3), np.nan)
        done = 0
        while done < cands.shape[0] and not (done > 0 and self.out_of_time()):
            stop = min(done + TIME_CHECK_EVERY, cands.shape[0])
            score_states(cands[done:stop], self.penalty, states[done:stop])
            self.evaluations += stop - done
            done = stop
        return states, done

    def report(self, iteration: int, final: bool = False) -> None:
        """Progress to the context at most every PROGRESS_EVERY_S seconds, and once at the end."""
        now = time.monotonic()
        if not final and now - self.last_report < PROGRESS_EVERY_S:
            return
        self.last_report = now
        valid = bool(self.best_state[0] > 0.5)
        self.ctx.progress(
            iteration=int(iteration),
            best_score=float(self.best_state[1]) if valid else None,
            best_objective=float(self.best_state[2]),
            best_valid=valid,
            evaluations=self.evaluations,
        )

    def history(self, iterations: int, counter: str, count: int) -> dict[str, Any]:
        """The `history` object of an optimizer result."""
        return {
            "iterations": iterations,
            "evaluations": self.evaluations,
            "accepted": self.accepted,
            counter: count,
            "elapsed_s": time.monotonic() - self.started,
            "stop_reason": "time_limit" if self.timed_out else "max_iters",
            "trace": thin(self.trace, MAX_TRACE),
        }


def thin(entries: list[Any], limit: int) -> list[Any]:
    """At most `limit` entries, evenly spaced, keeping the first and the last."""
    if len(entries) <= limit:
        return list(entries)
    step = (len(entries) - 1) / (limit - 1)
    return [entries[round(k * step)] for k in range(limit)]


def make_box(start: np.ndarray | None) -> np.ndarray:
    """[x_lo, x_hi, y_lo, y_hi]: the start's MEC centre ± max(3.5, R_start), or the origin ± 3.5 without a start."""
    if start is None:
        qx = qy = 0.0
        h = BOX_MIN_HALF_WIDTH
    else:
        _, r, qx, qy, _, _ = evaluate(start, np.empty(N_PAIRS))
        h = max(BOX_MIN_HALF_WIDTH, r)
    return np.array([qx - h, qx + h, qy - h, qy + h])


def stop_time(ctx: RecipeContext, time_limit_s: float) -> float:
    """Monotonic time at which to stop: the time limit, but never past the context deadline."""
    stop = time.monotonic() + time_limit_s
    deadline = getattr(ctx, "deadline", None)
    if deadline is not None and math.isfinite(deadline):
        stop = min(stop, deadline - DEADLINE_MARGIN_S)
    return stop


def local_search(
    run: SearchRun,
    cur: np.ndarray,
    cur_state: np.ndarray,
    proposals: int,
    sigma: float,
    iteration: int,
    per_proposal: bool,
) -> tuple[int, int]:
    """Run up to `proposals` local-search proposals from cur (updated in place): (proposals run, accepted).

    The caller has offered `cur` to the run first. Trace and progress iterations are `iteration + proposal index`
    when `per_proposal`, else `iteration`.
    """
    improvements = np.empty((ADAPT_EVERY, 3))
    done = accepted = 0
    while done < proposals and not run.out_of_time():
        n = min(ADAPT_EVERY, proposals - done)
        idx = run.rng.integers(0, N_SHAPES, size=n)
        z = run.rng.standard_normal((n, 3))
        n_accepted, n_improved, sigma = local_search_chunk(
            cur, cur_state, run.best, run.best_state, sigma, run.box, run.penalty, idx, z, improvements
        )
        run.record(improvements[:n_improved], iteration + done * per_proposal, per_proposal)
        accepted += n_accepted
        run.evaluations += n
        done += n
        run.report(iteration + done * per_proposal)
    return done, accepted
