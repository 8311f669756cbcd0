"""The two pools (spec §3, §4.7): nano encoding, the normalizer's u128 constant product, and the f64 pool wrapper
that quotes and executes the submission through its compiled `compute_swap`/`after_swap`.

Pool state is a float64 array [reserve_x, reserve_y]. The submission's 1024-byte storage lives inside its
1049-byte compute_swap instruction buffer (offset 25), so a quote writes only the 25 header bytes; `after_swap`
mutates that same region in place.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from recipes.prop_amm.bits import store_u64_le
from recipes.prop_amm.ffi import call_after_swap, call_compute_swap
from recipes.prop_amm.u128 import U64_MAX, ZERO, add128, div_small, div_u64, mul64

STORAGE_SIZE = 1024
SWAP_LEN = 25 + STORAGE_SIZE
AFTER_SWAP_LEN = 42 + STORAGE_SIZE
MIN_RESERVE = 1e-12
#: Index of each value in the `fns` array the kernels receive.
FN_SWAP, FN_AFTER, FN_HAS_AFTER = 0, 1, 2
_TWO64 = 18446744073709551616.0


@njit(cache=True, error_model="numpy")
def f64_to_nano(v: float) -> np.uint64:
    """`(v * 1e9) as u64`, with 0 for NaN or v <= 0 and saturation at u64::MAX."""
    if v != v or v <= 0.0:
        return ZERO
    x = v * 1e9
    if x >= _TWO64:
        return U64_MAX
    return np.uint64(x)


@njit(cache=True, error_model="numpy")
def nano_to_f64(n: np.uint64) -> float:
    """`n as f64 / 1e9`."""
    return float(n) / 1e9


@njit(cache=True, error_model="numpy")
def normalizer_swap(side: int, amount: np.uint64, rx: np.uint64, ry: np.uint64, fee_bps: int) -> np.uint64:
    """The normalizer's u128 constant product: net input after the fee, then `reserve - ceil(k / (base + net))`."""
    if rx == ZERO or ry == ZERO or side > 1:
        return ZERO
    nh, nl = mul64(amount, np.uint64(10_000 - fee_bps))
    net = div_small(nh, nl, np.uint64(10_000))
    kh, kl = mul64(rx, ry)
    base, out_reserve = (ry, rx) if side == 0 else (rx, ry)
    dh, dl = add128(ZERO, base, ZERO, net)
    th, tl = add128(kh, kl, dh, dl)  # k + d - 1: ceil division
    th, tl = add128(th, tl, U64_MAX, U64_MAX)
    q = div_u64(th, tl, dh, dl)
    return out_reserve - q if out_reserve > q else ZERO


@njit(cache=True, error_model="numpy")
def _usable(amount: float, pool: np.ndarray) -> bool:
    if amount <= 0.0 or not math.isfinite(amount):
        return False
    rx = pool[0]
    ry = pool[1]
    return rx > MIN_RESERVE and ry > MIN_RESERVE and math.isfinite(rx) and math.isfinite(ry)


@njit(cache=True, error_model="numpy")
def _checked(out: float, side: int, pool: np.ndarray) -> float:
    if not math.isfinite(out) or out <= 0.0 or out > pool[side]:
        return 0.0
    return out


@njit(cache=True, error_model="numpy")
def quote_sub(side: int, amount: float, pool: np.ndarray, ibuf: np.ndarray, fns: np.ndarray) -> float:
    """The submission's quote for `amount` of input (side 0: Y in, X out; side 1: X in, Y out); 0 when invalid."""
    if not _usable(amount, pool):
        return 0.0
    ibuf[0] = np.uint8(side)
    store_u64_le(ibuf, 1, f64_to_nano(amount))
    store_u64_le(ibuf, 9, f64_to_nano(pool[0]))
    store_u64_le(ibuf, 17, f64_to_nano(pool[1]))
    raw = call_compute_swap(fns[FN_SWAP], ibuf.ctypes.data, SWAP_LEN)
    return _checked(nano_to_f64(raw), side, pool)


@njit(cache=True, error_model="numpy")
def quote_norm(side: int, amount: float, pool: np.ndarray, fee_bps: int) -> float:
    """The normalizer's quote, with the same wrapper checks as the submission's."""
    if not _usable(amount, pool):
        return 0.0
    raw = normalizer_swap(side, f64_to_nano(amount), f64_to_nano(pool[0]), f64_to_nano(pool[1]), fee_bps)
    return _checked(nano_to_f64(raw), side, pool)


@njit(cache=True, error_model="numpy")
def _apply(side: int, amount: float, out: float, pool: np.ndarray) -> bool:
    # Re-checked execution (BpfAmm::execute_*): reserves move in f64, never to or below MIN_RESERVE.
    if amount <= 0.0 or out <= 0.0 or not math.isfinite(amount) or not math.isfinite(out):
        return False
    if out >= pool[side]:
        return False
    if side == 0:
        new_rx = pool[0] - out
        new_ry = pool[1] + amount
    else:
        new_rx = pool[0] + amount
        new_ry = pool[1] - out
    if new_rx <= MIN_RESERVE or new_ry <= MIN_RESERVE or not math.isfinite(new_rx) or not math.isfinite(new_ry):
        return False
    pool[0] = new_rx
    pool[1] = new_ry
    return True


@njit(cache=True, error_model="numpy")
def execute_sub(
    side: int, amount: float, pool: np.ndarray, ibuf: np.ndarray, abuf: np.ndarray, fns: np.ndarray, step: int
) -> float:
    """Re-quote and trade on the submission, then call its `after_swap`; returns the output (0: no trade)."""
    out = quote_sub(side, amount, pool, ibuf, fns)
    if not _apply(side, amount, out, pool):
        return 0.0
    if fns[FN_HAS_AFTER] != 0:
        abuf[0] = np.uint8(2)
        abuf[1] = np.uint8(side)
        store_u64_le(abuf, 2, f64_to_nano(amount))
        store_u64_le(abuf, 10, f64_to_nano(out))
        store_u64_le(abuf, 18, f64_to_nano(pool[0]))
        store_u64_le(abuf, 26, f64_to_nano(pool[1]))
        store_u64_le(abuf, 34, np.uint64(step))
        abuf[42:] = ibuf[25:]
        storage = ibuf[25:]
        call_after_swap(fns[FN_AFTER], abuf.ctypes.data, AFTER_SWAP_LEN, storage.ctypes.data, STORAGE_SIZE)
    return out


@njit(cache=True, error_model="numpy")
def execute_norm(side: int, amount: float, pool: np.ndarray, fee_bps: int) -> float:
    """Re-quote and trade on the normalizer; returns the output (0: no trade)."""
    out = quote_norm(side, amount, pool, fee_bps)
    if not _apply(side, amount, out, pool):
        return 0.0
    return out
