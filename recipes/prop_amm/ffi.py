"""Calls into a compiled strategy from Numba through raw function addresses.

The strategy library is loaded with ctypes; the addresses of its two exports (spec §8.3) are plain integers that
the kernels receive as arguments. These intrinsics turn an address into an LLVM indirect call. Why not ctypes
function objects or first-class function types: Numba freezes a global ctypes function's address into the compiled
code, which defeats `cache=True` (a different strategy would need a recompile), and passing function objects into
`prange` loops is fragile. An integer crosses every boundary (cache, parfors, threads) unchanged.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_I8P = ir.IntType(8).as_pointer()
_I64 = ir.IntType(64)


@intrinsic
def call_compute_swap(typingctx, addr, data, length):
    """`u64 __prop_amm_compute_swap_export(const u8 *data, usize len)` at address `addr`."""

    def codegen(context, builder, signature, args):
        a, d, n = (context.cast(builder, v, t, types.int64) for v, t in zip(args, signature.args, strict=True))
        fnty = ir.FunctionType(_I64, [_I8P, _I64])
        fn = builder.inttoptr(a, fnty.as_pointer())
        return builder.call(fn, [builder.inttoptr(d, _I8P), n])

    return types.uint64(addr, data, length), codegen


@intrinsic
def call_after_swap(typingctx, addr, data, data_len, storage, storage_len):
    """`void __prop_amm_after_swap_export(const u8 *data, usize len, u8 *storage, usize storage_len)`."""

    def codegen(context, builder, signature, args):
        a, d, n, s, m = (context.cast(builder, v, t, types.int64) for v, t in zip(args, signature.args, strict=True))
        fnty = ir.FunctionType(ir.VoidType(), [_I8P, _I64, _I8P, _I64])
        fn = builder.inttoptr(a, fnty.as_pointer())
        builder.call(fn, [builder.inttoptr(d, _I8P), n, builder.inttoptr(s, _I8P), m])
        return context.get_dummy_value()

    return types.void(addr, data, data_len, storage, storage_len), codegen
