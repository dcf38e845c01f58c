"""A cache hint for compiled loops that read scattered rows: :data:`prefetch`.

A loop over a list of users (or posts) reads rows spread over tens of megabytes, so
nearly every read misses the caches; what it costs is how many misses are in flight at
once. An ordinary load of a row ahead (a "read ahead") keeps the loop from retiring past
it until the row arrives; a prefetch asks the memory system for the line and goes on.
It changes no value: a loop with and without it computes the same numbers
(tests/test_prefetch.py), so it may be added or moved without touching a statement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: LLVM's prefetch arguments: for a write (the rows are read then written), the highest
#: temporal locality (keep the line in every cache level), a data (not instruction) line.
_WRITE, _KEEP_IN_ALL_CACHES, _DATA = 1, 3, 1


@intrinsic
def _prefetch(typingctx: Any, array: Any, index: Any) -> Any:
    """``prefetch(array, index)`` in compiled code (:data:`prefetch`): ask for the cache
    line holding ``array[index]`` (a 1-D array) or the start of row ``index``
    (``array[index, 0]``, an array of more dimensions). No bounds check and no effect
    on any value: an index past the end only wastes the hint."""
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None
    signature = types.void(array, index)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        array_type = sig.args[0]
        data = context.make_array(array_type)(context, builder, args[0])
        zero = ir.Constant(ir.IntType(64), 0)
        where = [args[1]] + [zero] * (array_type.ndim - 1)
        pointer = cgutils.get_item_pointer(
            context, builder, array_type, data, where, wraparound=False
        )
        i32 = ir.IntType(32)
        byte_pointer = ir.IntType(8).as_pointer()
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32])
        # The pointer's suffix as this LLVM names it (p0i8 with typed pointers, p0 without).
        function = builder.module.declare_intrinsic("llvm.prefetch", [byte_pointer], function_type)
        hints = [i32(_WRITE), i32(_KEEP_IN_ALL_CACHES), i32(_DATA)]
        builder.call(function, [builder.bitcast(pointer, byte_pointer), *hints])
        return context.get_dummy_value()

    return signature, codegen


#: :func:`_prefetch` as compiled code calls it: ``prefetch(array, index)`` (typed for
#: readers and mypy; numba sees the intrinsic itself).
prefetch = cast(Callable[[Any, Any], None], _prefetch)
