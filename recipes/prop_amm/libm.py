"""`exp` and `ln` of the pure-Rust `libm` crate 0.2.16 (musl/FreeBSD msun), which rand_distr's maths uses (spec §4.6).

The simulator's own exp/ln (GBM, mu_ln) are std's, i.e. glibc, so they use `math.exp`/`math.log`; only the
ziggurat, LogNormal and Poisson go through these ports, which makes the random draws bit-exact.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from recipes.prop_amm.bits import bits_f64, f64_bits

_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_X1P1023 = 8.98846567431158e307  # 2^1023
_X1P54 = 18014398509481984.0  # 2^54
_S32 = np.uint64(32)
_MASK_ABS = np.uint64(0x7FFFFFFF)


@njit(cache=True, error_model="numpy")
def _scalbn(y: float, n: int) -> float:
    # libm's scalbn on a normal y: multiply by exact powers of two in at most three steps, as musl does.
    if n > 1023:
        y *= _X1P1023
        n -= 1023
        if n > 1023:
            y *= _X1P1023
            n -= 1023
            n = min(n, 1023)
    elif n < -1022:
        y *= 2.2250738585072014e-308 * 9007199254740992.0  # 2^-1022 * 2^53
        n += 1022 - 53
        if n < -1022:
            y *= 2.2250738585072014e-308 * 9007199254740992.0
            n += 1022 - 53
            n = max(n, -1022)
    return y * math.ldexp(1.0, n)


@njit(cache=True, error_model="numpy")
def exp(x: float) -> float:
    """libm::exp."""
    hx = f64_bits(x) >> _S32
    sign = int(hx >> np.uint64(31))
    hx = hx & _MASK_ABS
    if hx >= np.uint64(0x4086232B):  # |x| >= 708.39 or nan
        if x != x:
            return x
        if x > 709.782712893383973096:
            return x * _X1P1023
        if x < -708.39641853226410622 and x < -745.13321910194110842:
            return 0.0
    if hx > np.uint64(0x3FD62E42):  # |x| > 0.5 ln2
        # |x| >= 1.5 ln2: round x/ln2 (truncating after adding +-0.5), else k = +-1
        k = int(_INV_LN2 * x + (0.5 if sign == 0 else -0.5)) if hx >= np.uint64(0x3FF0A2B2) else 1 - sign - sign
        hi = x - k * _LN2_HI
        lo = k * _LN2_LO
        x = hi - lo
    elif hx > np.uint64(0x3E300000):  # |x| > 2^-28
        k = 0
        hi = x
        lo = 0.0
    else:
        return 1.0 + x
    xx = x * x
    c = x - xx * (_P1 + xx * (_P2 + xx * (_P3 + xx * (_P4 + xx * _P5))))
    y = 1.0 + (x * c / (2.0 - c) - lo + hi)
    if k == 0:
        return y
    return _scalbn(y, k)


@njit(cache=True, error_model="numpy")
def log(x: float) -> float:
    """libm::log (`ln`)."""
    ui = f64_bits(x)
    hx = ui >> _S32
    k = 0
    if hx < np.uint64(0x00100000) or (hx >> np.uint64(31)) != np.uint64(0):
        if ui << np.uint64(1) == np.uint64(0):
            return -math.inf
        if hx >> np.uint64(31) != np.uint64(0):
            return math.nan
        k -= 54  # subnormal: scale up
        x *= _X1P54
        ui = f64_bits(x)
        hx = ui >> _S32
    elif hx >= np.uint64(0x7FF00000):
        return x
    elif hx == np.uint64(0x3FF00000) and ui << _S32 == np.uint64(0):
        return 0.0
    # Reduce x into [sqrt(2)/2, sqrt(2)].
    hx = hx + np.uint64(0x3FF00000 - 0x3FE6A09E)
    k += int(hx >> np.uint64(20)) - 0x3FF
    hx = (hx & np.uint64(0x000FFFFF)) + np.uint64(0x3FE6A09E)
    ui = (hx << _S32) | (ui & np.uint64(0xFFFFFFFF))
    x = bits_f64(ui)
    f = x - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    r = t2 + t1
    dk = float(k)
    return s * (hfsq + r) + dk * _LN2_LO - hfsq + f + dk * _LN2_HI
