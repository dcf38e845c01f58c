"""A ``numpy.random.Generator`` handed to compiled code as six addresses, not as an object.

numba accepts a ``Generator`` argument, but pays for it on every call: ~10 us to type it
(a Python-level ``typeof``) and ~12 us to unbox it (three ``ctypes.cast`` calls for its
bit generator's function pointers). The engine's speech step takes three generators
once a simulated day, ~65 us a call, about 5% of a 10,000-user run. Here the addresses
that unboxing reads are read once per generator (:func:`handle`), passed as a small
uint64 array (typed and unboxed in well under a microsecond), and turned back into
numba's generator value inside compiled code (:func:`as_generator`). The draws are the
generator's own: the same bit generator state, advanced in place, through the same
function pointers (tests/test_generator_handles.py draws both ways and compares).

The Python ``Generator`` must outlive every call that uses its handle (the simulation
keeps both). :func:`as_generator` builds numba's internal generator structure (its
``NumPyRandomGeneratorType`` data model, numba 0.60-0.6x): a numba release that changes
that model fails the tests here rather than drawing wrong numbers silently.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numpy.typing import NDArray

#: Order of the addresses in a handle (the bit generator fields numba's unboxing sets).
FIELDS = ("state_address", "state", "next_uint64", "next_uint32", "next_double", "bit_generator")
_GENERATOR = types.NumPyRandomGeneratorType("NumPyRandomGeneratorType")
_BIT_GENERATOR = types.NumPyRandomBitGeneratorType("bit_generator")


def handle(generator: np.random.Generator) -> NDArray[np.uint64]:
    """The addresses numba's unboxing reads from ``generator`` (see :data:`FIELDS`), as
    a read-only uint64 array for :func:`as_generator`."""
    interface = generator.bit_generator.ctypes

    def address(pointer: Any) -> int:
        if isinstance(pointer, int):
            return pointer
        if isinstance(pointer, ctypes.c_void_p):
            return int(pointer.value or 0)
        return int(ctypes.cast(pointer, ctypes.c_void_p).value or 0)

    out = np.array([address(getattr(interface, name)) for name in FIELDS], dtype=np.uint64)
    out.flags.writeable = False
    return out


@intrinsic
def _as_generator(typingctx: Any, addresses: Any) -> Any:
    """numba's ``Generator`` value for a :func:`handle` (compiled code only)."""
    if not (isinstance(addresses, types.Array) and addresses.dtype == types.uint64):
        return None
    signature = _GENERATOR(addresses)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        array = context.make_array(sig.args[0])(context, builder, args[0])

        def field(k: int) -> Any:
            return builder.load(cgutils.gep(builder, array.data, k))

        bit_generator = cgutils.create_struct_proxy(_BIT_GENERATOR)(context, builder)
        bit_generator.parent = cgutils.get_null_value(bit_generator.parent.type)
        bit_generator.state_address = field(0)
        bit_generator.state = field(1)
        bit_generator.fnptr_next_uint64 = field(2)
        bit_generator.fnptr_next_uint32 = field(3)
        bit_generator.fnptr_next_double = field(4)
        bit_generator.bit_generator = field(5)
        generator = cgutils.create_struct_proxy(_GENERATOR)(context, builder)
        generator.bit_generator = bit_generator._getvalue()
        # No reference is taken: the caller keeps the Python generator alive.
        generator.meminfo = cgutils.get_null_value(generator.meminfo.type)
        generator.parent = cgutils.get_null_value(generator.parent.type)
        return generator._getvalue()

    return signature, codegen


#: ``as_generator(handle) -> Generator`` in compiled code (typed for mypy as a call).
as_generator = cast(Callable[[NDArray[np.uint64]], Any], _as_generator)
