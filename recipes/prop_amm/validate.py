"""The behavioural checks of `validate` and `concavity_check` (spec §7.2 items 2–5), run natively through the
strategy's FFI exports: smoke, monotonicity, concavity with the 1-nano tolerance, and randomized storage states.

Each check is a result row `{"name", "ok", "detail"}`; a failing check is a result, not a task failure.
"""

from __future__ import annotations

import ctypes
import struct
from typing import Any

from recipes.prop_amm.source_rules import Metadata
from recipes.prop_amm.strategy_build import LoadedStrategy

NANO = 1_000_000_000
RX = 100 * NANO
RY = 10_000 * NANO
SIZES = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0)
CONCAVITY_STEP = 1_000_000
RANDOM_SEEDS = 32
STORAGE_SIZE = 1024
_M64 = (1 << 64) - 1
_SWAP = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_size_t)
_AFTER = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t)
Check = dict[str, Any]


def nano(v: float) -> int:
    """f64_to_nano for the finite positive sizes used here: `(v * 1e9) as u64`."""
    return int(v * 1e9)


def mix(z: int) -> int:
    """The SplitMix64 finalizer (§7.2 item 5)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


class Strategy:
    """Direct calls into a loaded strategy, with the instruction layouts of spec §3."""

    def __init__(self, loaded: LoadedStrategy) -> None:
        self.loaded = loaded
        self._swap = _SWAP(int(loaded.fns[0]))
        self._after = _AFTER(int(loaded.fns[1]))

    def swap(self, side: int, amount: int, rx: int = RX, ry: int = RY, storage: bytes = bytes(STORAGE_SIZE)) -> int:
        """compute_swap's output in nanos (0 also when the strategy panicked)."""
        data = struct.pack("<BQQQ", side, amount, rx, ry) + storage
        buf = ctypes.create_string_buffer(data, len(data))
        return int(self._swap(ctypes.addressof(buf), len(data)))

    def after_swap(self, fields: tuple[int, ...], storage: bytearray) -> None:
        """after_swap with (side, input, output, rx, ry, step); `storage` is updated in place."""
        data = struct.pack("<BBQQQQQ", 2, *fields) + bytes(storage)
        buf = ctypes.create_string_buffer(data, len(data))
        mutable = (ctypes.c_uint8 * len(storage)).from_buffer(storage)
        self._after(ctypes.addressof(buf), len(data), ctypes.addressof(mutable), len(storage))


def _row(name: str, ok: bool, detail: str = "") -> Check:
    return {"name": name, "ok": ok, "detail": detail}


def metadata_check(meta: Metadata) -> Check:
    """NAME, MODEL_USED and get_model_used are declared (§7.1)."""
    problems = meta.problems()
    return _row("metadata", not problems, "; ".join(problems))


def smoke_checks(s: Strategy) -> list[Check]:
    """Buying X with 10 Y and selling 1 X both give nonzero outputs."""
    buy = s.swap(0, nano(10.0))
    sell = s.swap(1, nano(1.0))
    return [
        _row("smoke_buy", buy > 0, f"input_y 10: output {buy}"),
        _row("smoke_sell", sell > 0, f"input_x 1: output {sell}"),
    ]


def monotonicity_check(s: Strategy, side: int) -> Check:
    """Once positive, outputs strictly increase over SIZES."""
    name = f"monotonicity_{'buy' if side == 0 else 'sell'}"
    prev = 0
    for size in SIZES:
        out = s.swap(side, nano(size))
        if out <= prev and prev > 0:
            return _row(name, False, f"size {size:g}: output {out} <= previous {prev}")
        prev = out
    return _row(name, True)


def concavity_check(s: Strategy, side: int) -> Check:
    """Two consecutive 1e6-nano input steps: the second output step may exceed the first by at most 1 nano."""
    name = f"concavity_{'buy' if side == 0 else 'sell'}"
    for size in SIZES:
        i0 = nano(size)
        o0, o1, o2 = (s.swap(side, i0 + k * CONCAVITY_STEP) for k in range(3))
        step1, step2 = o1 - o0, o2 - o1
        if step2 > step1 + 1:
            return _row(name, False, f"size {size:g}: outputs {o0}/{o1}/{o2}, step {step2} > {step1} + 1")
    return _row(name, True)


def randomized_storage_check(s: Strategy) -> Check:
    """32 seeded storage/reserve states: one swap then after_swap each; only execution errors (panics) fail."""
    before = s.loaded.panic_count()
    for seed in range(RANDOM_SEEDS):
        storage = bytearray(STORAGE_SIZE)
        for i in range(32):
            storage[i] = mix((seed + i) & _M64) & 0xFF
        rx = NANO + mix(seed ^ 0x0123456789ABCDEF) % (2 * 10**12)
        ry = NANO + mix(seed ^ 0x0F0F0F0FF0F0F0F0) % (2 * 10**14)
        side = seed & 1
        amount = 1_000_000 + mix(seed ^ 0xDEADBEEF) % 10**10
        out = s.swap(side, amount, rx, ry, bytes(storage))
        new_rx, new_ry = (max(rx - out, 0), ry + amount) if side == 0 else (rx + amount, max(ry - out, 0))
        s.after_swap((side, amount, out, new_rx, new_ry, seed), storage)
        if s.loaded.panic_count() != before:
            return _row("randomized_storage", False, f"seed {seed}: the strategy panicked")
    return _row("randomized_storage", True, f"{RANDOM_SEEDS} states")


def behaviour_checks(loaded: LoadedStrategy, with_storage: bool) -> list[Check]:
    """Smoke, monotonicity and concavity on both sides, then (for `validate`) the randomized storage states."""
    s = Strategy(loaded)
    checks = smoke_checks(s)
    checks += [monotonicity_check(s, side) for side in (0, 1)]
    checks += [concavity_check(s, side) for side in (0, 1)]
    if with_storage:
        checks.append(randomized_storage_check(s))
    return checks
