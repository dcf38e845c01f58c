"""A generator handed to compiled code as addresses draws what the generator itself draws
(simulator/kernels/handles.py), and advances the Python generator's own state; the
fallback (the ``Generator`` objects themselves, for a numba whose internals differ)
draws the same numbers, in a whole run too."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

import simulator
from simulator.kernels import handles, publishing
from simulator.kernels.handles import FIELDS, UNSUPPORTED_REASON, as_generator, handle

#: Tests of the handles themselves run where this numba can take them.
needs_handles = pytest.mark.skipif(
    bool(UNSUPPORTED_REASON), reason=f"fallback in use: {UNSUPPORTED_REASON}"
)
BIT_GENERATORS = [np.random.PCG64, np.random.Philox, np.random.MT19937, np.random.SFC64]


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


@needs_handles
@pytest.mark.parametrize("bit_generator", BIT_GENERATORS)
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


@needs_handles
def test_a_handle_is_not_another_generators() -> None:
    """Handles of two generators draw two streams (the addresses are per object)."""
    first, second = np.random.default_rng(1), np.random.default_rng(2)
    a = draws_from_handle(handle(first), 20)
    b = draws_from_handle(handle(second), 20)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, draws_from_generator(np.random.default_rng(1), 20))


@needs_handles
def test_only_uint64_addresses_are_a_handle() -> None:
    with pytest.raises(TypingError):
        draws_from_handle(np.zeros(6, dtype=np.int64), 1)


@pytest.mark.parametrize("bit_generator", BIT_GENERATORS)
def test_the_fallback_draws_what_a_handle_draws(bit_generator: type) -> None:
    """Compiled code given the Generator object itself (the fallback) draws the numbers
    a handle draws (and the generator's own), and advances it as far."""
    given_itself = np.random.Generator(bit_generator(23))
    by_handle = np.random.Generator(bit_generator(23))
    for n in (1, 300):
        got = draws_from_handle(given_itself, n)  # as_generator of a Generator
        want = (
            draws_from_generator(by_handle, n)
            if UNSUPPORTED_REASON
            else draws_from_handle(handle(by_handle), n)
        )
        np.testing.assert_array_equal(got, want)
    assert given_itself.bit_generator.random_raw() == by_handle.bit_generator.random_raw()


def test_a_whole_run_on_the_fallback_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine with the fallback forced (the module flag the switch sets) gives the
    tables and summary of the engine on handles, to the byte."""
    scenario = simulator.override(
        simulator.load_scenario("classroom"), {"population.users": 400, "horizon_days": 6}
    )
    # Threads and a second process would not see the flag change: one process.
    on_handles = simulator.run(scenario, seed=4, parallel=False)
    monkeypatch.setattr(handles, "USE_HANDLES", False)
    on_objects = simulator.run(scenario, seed=4, parallel=False)
    assert int(on_handles.daily["removed"].sum()) > 0  # moderation drew, not only speech
    for name in ("daily", "counterfactual_daily", "delays", "events", "platform_daily",
                 "population_daily"):  # fmt: skip
        assert getattr(on_objects, name).to_csv() == getattr(on_handles, name).to_csv(), name
    assert json.dumps(on_objects.summary, sort_keys=True) == json.dumps(
        on_handles.summary, sort_keys=True
    )
    # The day step did take the Generator objects (a specialisation of its own).
    taken = [str(signature) for signature in publishing.publish_days.signatures]
    assert any("NumPyRandomGeneratorType" in s for s in taken), taken


def test_the_switch_selects_the_fallback_in_a_fresh_process() -> None:
    # The module alone (not the whole package: a second faster).
    code = (
        "import importlib.util as u, numpy as np; "
        f"s = u.spec_from_file_location('handles', {handles.__file__!r}); "
        "g = u.module_from_spec(s); s.loader.exec_module(g); r = np.random.default_rng(1); "
        "print(g.USE_HANDLES, repr(g.FALLBACK_REASON), g.argument(r) is r)"
    )
    env = {**os.environ, handles.ENVIRONMENT_SWITCH: "0"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "'CENSIM_GENERATOR_HANDLES=0'", "True"]


def test_other_internals_are_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    """A numba whose generator model has other fields, or none where expected, is
    refused handles (the fallback is taken), with the reason."""
    if not UNSUPPORTED_REASON:
        assert handles._models_differ() == ""
    changed = (handles.EXPECTED_MODELS[0], handles.EXPECTED_MODELS[1][:-1])
    monkeypatch.setattr(handles, "EXPECTED_MODELS", changed)
    assert "differ" in handles._models_differ()
    from numba.core import datamodel

    def no_model(_: object) -> None:
        raise KeyError("NumPyRandomGeneratorType")

    monkeypatch.setattr(datamodel.default_manager, "lookup", no_model)
    assert "not where handles expect" in handles._models_differ()
