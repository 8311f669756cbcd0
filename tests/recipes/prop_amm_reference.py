"""Plain-Python references for the `prop_amm` kernels (STYLE P7): Python integers stand in for Rust's u64/u128.

Written from spec §3, §4.6 and §6.2 independently of the Numba code; the tables are the recipe's (data, not logic).
"""

from __future__ import annotations

import math
import struct

from recipes.prop_amm.zig_tables import ZIG_NORM_F, ZIG_NORM_R, ZIG_NORM_X

M64 = (1 << 64) - 1
M128 = (1 << 128) - 1
PCG_MUL = 0x2360ED051FC65DA44385DF649FCCF645


def _f64(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


class Pcg64:
    """rand_pcg's Lcg128Xsl64 seeded by rand_core's seed_from_u64."""

    def __init__(self, seed: int) -> None:
        s = seed & M64
        words = []
        for _ in range(8):
            s = (s * 6364136223846793005 + 11634580027462260723) & M64
            xs = (((s >> 18) ^ s) >> 27) & 0xFFFFFFFF
            rot = s >> 59
            words.append(((xs >> rot) | (xs << ((32 - rot) & 31))) & 0xFFFFFFFF)
        w = [words[2 * i] | (words[2 * i + 1] << 32) for i in range(4)]
        self.inc = (w[2] | (w[3] << 64)) | 1
        self.state = ((w[0] | (w[1] << 64)) + self.inc) & M128
        self._step()

    def _step(self) -> None:
        self.state = (self.state * PCG_MUL + self.inc) & M128

    def next_u64(self) -> int:
        self._step()
        rot = self.state >> 122
        x = ((self.state >> 64) ^ self.state) & M64
        return ((x >> rot) | (x << ((64 - rot) & 63))) & M64

    def gen_f64(self) -> float:
        return (self.next_u64() >> 11) * 2.0**-53

    def open01(self) -> float:
        return _f64((self.next_u64() >> 12) | 0x3FF0000000000000) - (1.0 - 2.0**-53)

    def standard_normal(self, exp=math.exp, log=math.log) -> float:  # type: ignore[no-untyped-def]
        while True:
            bits = self.next_u64()
            i = bits & 0xFF
            u = _f64((bits >> 12) | (1024 << 52)) - 3.0
            x = u * ZIG_NORM_X[i]
            if abs(x) < ZIG_NORM_X[i + 1]:
                return float(x)
            if i == 0:
                xt, yt = 1.0, 0.0
                while -2.0 * yt < xt * xt:
                    xt = log(self.open01()) / ZIG_NORM_R
                    yt = log(self.open01())
                return ZIG_NORM_R - xt if u >= 0.0 else xt - ZIG_NORM_R
            if ZIG_NORM_F[i + 1] + (ZIG_NORM_F[i] - ZIG_NORM_F[i + 1]) * self.gen_f64() < exp(-x * x / 2.0):
                return float(x)


def normalizer_swap(side: int, amount: int, rx: int, ry: int, fee_bps: int) -> int:
    """The normalizer's u128 constant product (spec §3)."""
    if rx == 0 or ry == 0:
        return 0
    net = amount * (10_000 - fee_bps) // 10_000
    k = rx * ry
    base, reserve = (ry, rx) if side == 0 else (rx, ry)
    d = base + net
    return max(reserve - (k + d - 1) // d, 0)


def f64_to_nano(v: float) -> int:
    if math.isnan(v) or v <= 0.0:
        return 0
    if math.isinf(v) or v * 1e9 >= 2.0**64:
        return M64
    return int(v * 1e9)


def shape_violation(points: list[tuple[float, float]], min_input: float) -> int:
    """0 (fine), 1 (monotonicity) or 2 (concavity), as spec §6.2 describes the check."""
    min_nano = f64_to_nano(min_input)
    quantized = [
        (f64_to_nano(x), f64_to_nano(y))
        for x, y in points
        if math.isfinite(x) and math.isfinite(y) and x > min_input and y >= 0.0
    ]
    quantized = sorted((p for p in quantized if p[0] > min_nano), key=lambda p: p[0])
    kept: list[list[int]] = []
    for x, y in quantized:
        if kept and x - kept[-1][0] <= 4:
            kept[-1][1] = max(kept[-1][1], y)
        else:
            kept.append([x, y])
    for (_, ya), (_, yb) in zip(kept, kept[1:], strict=False):
        if min(yb + 4, M64) < ya:
            return 1
    prev = None
    for (xa, ya), (xb, yb) in zip(kept, kept[1:], strict=False):
        dx, dy = xb - xa, max(yb - ya, 0)
        if dx < 1_000_000:
            continue
        if prev is not None and max(dy - 4, 0) * prev[0] > (prev[1] + 4) * dx:
            return 2
        prev = (dx, dy)
    return 0
