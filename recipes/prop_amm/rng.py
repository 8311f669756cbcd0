"""The reference's random numbers, bit for bit (spec §4.6): rand_pcg's Pcg64 seeded by rand_core's `seed_from_u64`,
rand 0.8.5's uniform samplers and rand_distr 0.4.3's StandardNormal (ziggurat), LogNormal and Poisson (Knuth).

A generator is a uint64 array of 4: [state_hi, state_lo, inc_hi, inc_lo]. Every function advances it in place.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from recipes.prop_amm import libm
from recipes.prop_amm.bits import bits_f64
from recipes.prop_amm.u128 import M32, ONE, S32, ZERO, add128, mul64
from recipes.prop_amm.zig_tables import ZIG_NORM_F, ZIG_NORM_R, ZIG_NORM_X

_MUL_HI = np.uint64(0x2360ED051FC65DA4)
_MUL_LO = np.uint64(0x4385DF649FCCF645)
_PCG32_MUL = np.uint64(6364136223846793005)
_PCG32_INC = np.uint64(11634580027462260723)
_EXP_ONE = np.uint64(0x3FF0000000000000)  # exponent bits of [1, 2)
_EXP_TWO = np.uint64(0x4000000000000000)  # exponent bits of [2, 4)
_OPEN01_SHIFT = 1.0 - 2.0**-53
_INV_2_53 = 2.0**-53
_LOW_BYTE = np.uint64(0xFF)


@njit(cache=True, error_model="numpy")
def _step(st: np.ndarray) -> None:
    hi, lo = mul64(st[1], _MUL_LO)
    hi = hi + st[1] * _MUL_HI + st[0] * _MUL_LO
    st[0], st[1] = add128(hi, lo, st[2], st[3])


@njit(cache=True, error_model="numpy")
def seed_from_u64(seed: np.uint64, st: np.ndarray) -> None:
    """Seed `st` as `Pcg64::seed_from_u64(seed)`: 8 PCG32 words make the 32 seed bytes (rand_core 0.6.4)."""
    s = np.uint64(seed)
    words = np.empty(4, dtype=np.uint64)
    for w in range(4):
        word = ZERO
        for half in range(2):
            s = s * _PCG32_MUL + _PCG32_INC
            xs = (((s >> np.uint64(18)) ^ s) >> np.uint64(27)) & M32
            rot = s >> np.uint64(59)
            out = ((xs >> rot) | (xs << ((np.uint64(32) - rot) & np.uint64(31)))) & M32
            word |= out << (S32 * np.uint64(half))
        words[w] = word
    st[0] = words[1]
    st[1] = words[0]
    st[2] = words[3]
    st[3] = words[2] | ONE
    st[0], st[1] = add128(st[0], st[1], st[2], st[3])
    _step(st)


@njit(cache=True, error_model="numpy")
def next_u64(st: np.ndarray) -> np.uint64:
    """Lcg128Xsl64::next_u64: step, then the XSL-RR output of the new state."""
    _step(st)
    rot = st[0] >> np.uint64(58)
    x = st[0] ^ st[1]
    return (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))


@njit(cache=True, error_model="numpy")
def gen_f64(st: np.ndarray) -> float:
    """`rng.gen::<f64>()`: 53 high bits scaled into [0, 1)."""
    return float(next_u64(st) >> np.uint64(11)) * _INV_2_53


@njit(cache=True, error_model="numpy")
def open01(st: np.ndarray) -> float:
    """`Open01`: a float in (0, 1)."""
    return bits_f64((next_u64(st) >> np.uint64(12)) | _EXP_ONE) - _OPEN01_SHIFT


@njit(cache=True, error_model="numpy")
def gen_range_f64(st: np.ndarray, low: float, high: float) -> float:
    """`gen_range(low..high)` for f64 (UniformFloat::sample_single): redraw while the result reaches `high`."""
    scale = high - low
    while True:
        value = bits_f64((next_u64(st) >> np.uint64(12)) | _EXP_ONE) - 1.0
        res = value * scale + low
        if res < high:
            return res


@njit(cache=True, error_model="numpy")
def gen_range_u16_inclusive(st: np.ndarray, low: int, high: int) -> int:
    """`gen_range(low..=high)` for u16 (UniformInt::sample_single_inclusive, widened to u32, modulus zone)."""
    rng = np.uint64(high - low + 1)
    u32_max = np.uint64(0xFFFFFFFF)
    zone = u32_max - ((u32_max - rng + ONE) % rng)
    while True:
        v = next_u64(st) & M32
        m = v * rng
        if (m & M32) <= zone:
            return low + int(m >> S32)


@njit(cache=True, error_model="numpy")
def standard_normal(st: np.ndarray) -> float:
    """`StandardNormal`: rand_distr's symmetric 256-layer ziggurat with its libm exp/ln."""
    while True:
        bits = next_u64(st)
        i = int(bits & _LOW_BYTE)
        u = bits_f64((bits >> np.uint64(12)) | _EXP_TWO) - 3.0
        x = u * ZIG_NORM_X[i]
        if abs(x) < ZIG_NORM_X[i + 1]:
            return x
        if i == 0:
            return _normal_tail(st, u)
        if ZIG_NORM_F[i + 1] + (ZIG_NORM_F[i] - ZIG_NORM_F[i + 1]) * gen_f64(st) < libm.exp(-x * x / 2.0):
            return x


@njit(cache=True, error_model="numpy")
def _normal_tail(st: np.ndarray, u: float) -> float:
    x = 1.0
    y = 0.0
    while -2.0 * y < x * x:
        x = libm.log(open01(st)) / ZIG_NORM_R
        y = libm.log(open01(st))
    return x - ZIG_NORM_R if u < 0.0 else ZIG_NORM_R - x


@njit(cache=True, error_model="numpy")
def log_normal(st: np.ndarray, mu: float, sigma: float) -> float:
    """`LogNormal::new(mu, sigma)` sample: libm exp of `mu + sigma * z`."""
    return libm.exp(mu + sigma * standard_normal(st))


@njit(cache=True, error_model="numpy")
def poisson_small(st: np.ndarray, exp_neg_lambda: float) -> int:
    """`Poisson(lambda)` for lambda < 12 (Knuth): multiply uniforms until the product is <= exp(-lambda)."""
    k = 0
    p = 1.0
    while p > exp_neg_lambda:
        p *= gen_f64(st)
        k += 1
    return k - 1


def new_state() -> np.ndarray:
    """An unseeded generator array."""
    return np.zeros(4, dtype=np.uint64)
