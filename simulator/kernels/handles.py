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
keeps both).

**Fallback.** Building numba's generator value from addresses relies on numba internals
(the data model of its ``NumPyRandomGeneratorType``: the fields numba's own unboxing
fills). At import, :func:`_models_differ` compares that model with the one handles
build (the same in numba 0.61.0 and 0.68.1, the versions tested). If it differs, or
numba no longer has it, or ``CENSIM_GENERATOR_HANDLES=0`` is set, :data:`USE_HANDLES`
is False and :func:`argument` hands compiled code the ``Generator`` objects themselves,
which numba supports natively: the same draws from the same generators, ~22 us a call
slower. :data:`FALLBACK_REASON` says why. Compiled code calls :func:`as_generator` on
whichever it gets. The tests draw through both paths and compare, and run a whole
simulation with the fallback forced (tests/test_generator_handles.py).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numba import types
from numba.extending import intrinsic, overload
from numpy.typing import NDArray

#: Order of the addresses in a handle (the bit generator fields numba's unboxing sets).
FIELDS = ("state_address", "state", "next_uint64", "next_uint32", "next_double", "bit_generator")
#: Set to 0 to hand compiled code the ``Generator`` objects (the fallback) whatever numba.
ENVIRONMENT_SWITCH = "CENSIM_GENERATOR_HANDLES"
#: numba's data models that :func:`_from_addresses` fills, as (field, type) pairs: a
#: ``Generator``, then its bit generator (numba 0.61.0 to 0.68.1).
EXPECTED_MODELS = (
    (
        ("bit_generator", "NumPyRandomBitGeneratorType"),
        ("meminfo", "memory-managed *void*"),
        ("parent", "pyobject"),
    ),
    (
        ("parent", "pyobject"),
        ("state_address", "uint64"),
        ("state", "uint64"),
        ("fnptr_next_uint64", "uint64"),
        ("fnptr_next_uint32", "uint64"),
        ("fnptr_next_double", "uint64"),
        ("bit_generator", "uint64"),
    ),
)


def _models_differ() -> str:
    """Why numba's generator data models are not the ones :func:`_from_addresses` fills
    ('' if they are: handles can be used)."""
    try:
        from numba.core import datamodel
        from numba.np.random import generator_core  # noqa: F401  (registers the models)

        found = tuple(
            tuple(zip(model._fields, map(str, model._members), strict=True))
            for model in (
                datamodel.default_manager.lookup(types.NumPyRandomGeneratorType("generator")),
                datamodel.default_manager.lookup(types.NumPyRandomBitGeneratorType("bits")),
            )
        )
    except Exception as error:  # any change of numba's internals: take the public path
        return f"numba's generator internals are not where handles expect them ({error!r})"
    if found != EXPECTED_MODELS:
        return f"numba's generator data models differ from the ones handles build: {found}"
    return ""


#: Why this numba cannot take handles ('' if it can).
UNSUPPORTED_REASON = _models_differ()
#: Why compiled code takes ``Generator`` objects instead of handles ('' if it does not):
#: :data:`UNSUPPORTED_REASON`, or the switch.
FALLBACK_REASON = UNSUPPORTED_REASON or (
    f"{ENVIRONMENT_SWITCH}=0" if os.environ.get(ENVIRONMENT_SWITCH, "").strip() == "0" else ""
)
#: Whether :func:`argument` gives compiled code handles (else the ``Generator`` objects).
USE_HANDLES = not FALLBACK_REASON


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


def argument(generator: np.random.Generator) -> NDArray[np.uint64] | np.random.Generator:
    """``generator`` as compiled code takes it: its :func:`handle`, or the generator
    itself when :data:`USE_HANDLES` is False (read at each call)."""
    return handle(generator) if USE_HANDLES else generator


@intrinsic
def _from_addresses(typingctx: Any, addresses: Any) -> Any:
    """numba's ``Generator`` value for a :func:`handle` (compiled code only; numba
    internals, used only when :data:`USE_HANDLES`)."""
    if not (isinstance(addresses, types.Array) and addresses.dtype == types.uint64):
        return None
    from numba.core import cgutils

    generator_type = types.NumPyRandomGeneratorType("NumPyRandomGeneratorType")
    bit_generator_type = types.NumPyRandomBitGeneratorType("bit_generator")
    signature = generator_type(addresses)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        array = context.make_array(sig.args[0])(context, builder, args[0])

        def field(k: int) -> Any:
            return builder.load(cgutils.gep(builder, array.data, k))

        bit_generator = cgutils.create_struct_proxy(bit_generator_type)(context, builder)
        bit_generator.parent = cgutils.get_null_value(bit_generator.parent.type)
        bit_generator.state_address = field(0)
        bit_generator.state = field(1)
        bit_generator.fnptr_next_uint64 = field(2)
        bit_generator.fnptr_next_uint32 = field(3)
        bit_generator.fnptr_next_double = field(4)
        bit_generator.bit_generator = field(5)
        generator = cgutils.create_struct_proxy(generator_type)(context, builder)
        generator.bit_generator = bit_generator._getvalue()
        # No reference is taken: the caller keeps the Python generator alive.
        generator.meminfo = cgutils.get_null_value(generator.meminfo.type)
        generator.parent = cgutils.get_null_value(generator.parent.type)
        return generator._getvalue()

    return signature, codegen


def _as_generator(generator_or_handle: Any) -> Any:
    """Outside compiled code: a ``Generator`` as it is (a handle is read only there)."""
    if isinstance(generator_or_handle, np.random.Generator):
        return generator_or_handle
    raise TypeError("a generator handle is read in compiled code only")


@overload(_as_generator)
def _as_generator_compiled(generator_or_handle: Any) -> Any:
    # (The implementations' parameters must match this one's, annotation included.)
    if isinstance(generator_or_handle, types.NumPyRandomGeneratorType):

        def itself(generator_or_handle: Any) -> Any:  # numba's own unboxing made it
            return generator_or_handle

        return itself
    if isinstance(generator_or_handle, types.Array) and generator_or_handle.dtype == types.uint64:
        if UNSUPPORTED_REASON:
            raise TypeError(f"generator handles cannot be used here: {UNSUPPORTED_REASON}")
        build = cast(Callable[[Any], Any], _from_addresses)

        def from_addresses(generator_or_handle: Any) -> Any:
            return build(generator_or_handle)

        return from_addresses
    return None


#: ``as_generator(argument) -> Generator`` in compiled code, for a :func:`handle` or a
#: ``Generator`` (what :func:`argument` gives); typed for mypy as a call.
as_generator = cast(Callable[[NDArray[np.uint64] | np.random.Generator], Any], _as_generator)
