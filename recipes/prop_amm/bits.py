"""Bit casts between float64 and uint64 for Numba kernels (LLVM `bitcast`, no array round trip)."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic


@intrinsic
def f64_bits(typingctx, x):
    """The IEEE-754 bits of a float64, as uint64."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.uint64(types.float64), codegen


@intrinsic
def bits_f64(typingctx, x):
    """The float64 whose IEEE-754 bits are the uint64 `x`."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.uint64), codegen


@intrinsic
def store_u64_le(typingctx, buf, offset, value):
    """Write `value` as 8 little-endian bytes at `buf[offset]` (a uint8 array; unaligned store, x86-64/aarch64 LE)."""

    def codegen(context, builder, signature, args):
        arr = context.make_array(signature.args[0])(context, builder, args[0])
        off = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = builder.gep(arr.data, [off])
        target = builder.bitcast(ptr, ir.IntType(64).as_pointer())
        builder.store(context.cast(builder, args[2], signature.args[2], types.uint64), target, align=1)
        return context.get_dummy_value()

    return types.void(buf, offset, value), codegen
