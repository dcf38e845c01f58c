"""A generator handed to compiled code as addresses draws what the generator itself draws
(simulator/generator_handles.py), and advances the Python generator's own state."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from simulator.generator_handles import FIELDS, as_generator, handle


def _draws(g, n):  # type: ignore[no-untyped-def]
    """Every distribution the engine's compiled steps draw from, interleaved."""
    out = np.empty(6 * n)
    for i in range(n):
        out[6 * i] = g.random()
        out[6 * i + 1] = g.poisson(3.5 if i % 2 else 700.0)  # both of numpy's algorithms
        out[6 * i + 2] = g.binomial(1000 if i % 3 else 7, 0.3)  # both algorithms too
        out[6 * i + 3] = g.standard_exponential()
        out[6 * i + 4] = g.standard_normal()
        out[6 * i + 5] = g.exponential(2.5)
    return out


draws_from_generator = njit(_draws)


@njit
def draws_from_handle(addresses, n):  # type: ignore[no-untyped-def]
    return draws_from_generator(as_generator(addresses), n)


@pytest.mark.parametrize(
    "bit_generator", [np.random.PCG64, np.random.Philox, np.random.MT19937, np.random.SFC64]
)
def test_a_handle_draws_what_its_generator_draws(bit_generator: type) -> None:
    by_handle = np.random.Generator(bit_generator(11))
    by_object = np.random.Generator(bit_generator(11))
    addresses = handle(by_handle)
    assert addresses.dtype == np.uint64 and len(addresses) == len(FIELDS)
    assert not addresses.flags.writeable
    for n in (1, 500):  # twice: the state carries over between calls
        got = draws_from_handle(addresses, n)
        want = draws_from_generator(by_object, n)
        np.testing.assert_array_equal(got, want)
    # The Python generator itself advanced, exactly as far as the other.
    assert by_handle.random() == by_object.random()
    assert (by_handle.bit_generator.random_raw(4) == by_object.bit_generator.random_raw(4)).all()


def test_a_handle_is_not_another_generators() -> None:
    """Handles of two generators draw two streams (the addresses are per object)."""
    first, second = np.random.default_rng(1), np.random.default_rng(2)
    a = draws_from_handle(handle(first), 20)
    b = draws_from_handle(handle(second), 20)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, draws_from_generator(np.random.default_rng(1), 20))


def test_only_uint64_addresses_are_a_handle() -> None:
    with pytest.raises(TypingError):
        draws_from_handle(np.zeros(6, dtype=np.int64), 1)
