"""Unsigned 128-bit integer arithmetic on (hi, lo) pairs of uint64, for Numba (which has no 128-bit integer type).

Every operand and constant is a np.uint64: mixing uint64 with a Python int makes Numba compute in float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

M32 = np.uint64(0xFFFFFFFF)
U64_MAX = np.uint64(0xFFFFFFFFFFFFFFFF)
ZERO = np.uint64(0)
ONE = np.uint64(1)
S32 = np.uint64(32)
S63 = np.uint64(63)
TWO64 = 18446744073709551616.0
_TWO50 = 1125899906842624.0


@njit(cache=True, error_model="numpy")
def mul64(a: np.uint64, b: np.uint64) -> tuple[np.uint64, np.uint64]:
    """The full 128-bit product a*b as (hi, lo)."""
    a0 = a & M32
    a1 = a >> S32
    b0 = b & M32
    b1 = b >> S32
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    mid = (p00 >> S32) + (p01 & M32) + (p10 & M32)
    lo = (p00 & M32) | (mid << S32)
    hi = a1 * b1 + (p01 >> S32) + (p10 >> S32) + (mid >> S32)
    return hi, lo


@njit(cache=True, error_model="numpy")
def add128(ah: np.uint64, al: np.uint64, bh: np.uint64, bl: np.uint64) -> tuple[np.uint64, np.uint64]:
    """a + b mod 2^128."""
    lo = al + bl
    carry = ONE if lo < al else ZERO
    return ah + bh + carry, lo


@njit(cache=True, error_model="numpy")
def sub128(ah: np.uint64, al: np.uint64, bh: np.uint64, bl: np.uint64) -> tuple[np.uint64, np.uint64]:
    """a - b mod 2^128."""
    borrow = ONE if al < bl else ZERO
    return ah - bh - borrow, al - bl


@njit(cache=True, error_model="numpy")
def lt128(ah: np.uint64, al: np.uint64, bh: np.uint64, bl: np.uint64) -> np.bool_:
    """a < b."""
    return ah < bh or (ah == bh and al < bl)


@njit(cache=True, error_model="numpy")
def div_small(h: np.uint64, lo: np.uint64, d: np.uint64) -> np.uint64:
    """floor((h:lo) / d) for 0 < d < 2^32, when the quotient fits in 64 bits (schoolbook on 32-bit limbs)."""
    if h == ZERO:
        return lo // d
    r = ZERO
    q = ZERO
    for limb in (h >> S32, h & M32, lo >> S32, lo & M32):
        cur = (r << S32) | limb
        q = (q << S32) | (cur // d)
        r = cur % d
    return q


@njit(cache=True, error_model="numpy")
def _to_float(h: np.uint64, lo: np.uint64) -> float:
    return float(h) * TWO64 + float(lo)


@njit(cache=True, error_model="numpy")
def _div_bitwise(nh: np.uint64, nl: np.uint64, dh: np.uint64, dl: np.uint64) -> np.uint64:
    # Restoring division, one quotient bit per round: exact for any operands, used only near 2^128.
    rh = ZERO
    rl = ZERO
    q = ZERO
    for i in range(127, -1, -1):
        bit = (nh >> np.uint64(i - 64)) & ONE if i >= 64 else (nl >> np.uint64(i)) & ONE
        top = rh >> S63
        rh = (rh << ONE) | (rl >> S63)
        rl = (rl << ONE) | bit
        if top != ZERO or not lt128(rh, rl, dh, dl):
            rh, rl = sub128(rh, rl, dh, dl)
            if i < 64:
                q |= ONE << np.uint64(i)
    return q


@njit(cache=True, error_model="numpy")
def div_u64(nh: np.uint64, nl: np.uint64, dh: np.uint64, dl: np.uint64) -> np.uint64:
    """floor(n / d) for d > 0, when the quotient is known to fit in 64 bits.

    A float estimate is corrected with exact 128-bit remainders: the estimate is within ~2^13 of the quotient (within
    2 when the quotient is below 2^50, the usual case), float steps of the remainder bring it within 2, and the last
    loops make it exact.
    """
    if nh >> np.uint64(62) != ZERO:
        return _div_bitwise(nh, nl, dh, dl)
    if nh == ZERO and dh == ZERO:
        return nl // dl
    df = _to_float(dh, dl)
    qf = _to_float(nh, nl) / df
    q = U64_MAX if qf >= TWO64 else np.uint64(qf)
    for _ in range(0 if qf < _TWO50 else 2):
        ph, pl = mul64(q, dl)
        ph = ph + q * dh
        rh, rl = sub128(nh, nl, ph, pl)
        if rh >> S63 != ZERO:  # negative remainder: q is too large
            mh, ml = sub128(ZERO, ZERO, rh, rl)
            step = np.uint64(np.floor(_to_float(mh, ml) / df))
            q = q - step
        else:
            step = np.uint64(np.floor(_to_float(rh, rl) / df))
            q = q + step
    ph, pl = mul64(q, dl)
    ph = ph + q * dh
    rh, rl = sub128(nh, nl, ph, pl)
    while rh >> S63 != ZERO:
        q = q - ONE
        rh, rl = add128(rh, rl, dh, dl)
    while not lt128(rh, rl, dh, dl):
        q = q + ONE
        rh, rl = sub128(rh, rl, dh, dl)
    return q
