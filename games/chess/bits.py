"""Bit tricks for 64-bit bitboards in Numba: native popcount / trailing-zero count and a logical right shift.

Bitboards are ``int64`` (square ``a1 = 0`` .. ``h8 = 63``, bit ``sq`` set when the square is in the set). Mixing
``uint64`` with Numba's ``int64`` literals silently promotes to ``float64``, so every board stays ``int64``;
the only operation where the sign matters, the right shift, goes through ``shr`` (a logical shift).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["popcount", "lsb", "shr"]


@intrinsic
def _ctpop(typingctx, x):
    if x != types.int64:
        return None

    def codegen(context, builder, sig, args):
        return builder.ctpop(args[0])

    return types.int64(types.int64), codegen


@intrinsic
def _cttz(typingctx, x):
    if x != types.int64:
        return None

    def codegen(context, builder, sig, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))

    return types.int64(types.int64), codegen


popcount = _ctpop
"""``popcount(x)``: number of set bits (one ``popcnt`` instruction); callable from Numba code only."""

lsb = _cttz
"""``lsb(x)``: index of the lowest set bit of a non-zero board (one ``tzcnt``); callable from Numba code only."""


@njit(cache=True)
def shr(x, n):
    """Logical right shift of an ``int64`` board by ``n`` in 0..63 (``>>`` on ``int64`` copies the sign bit)."""
    return np.int64(np.uint64(x) >> np.uint64(n))
