"""``learning.learn_beliefs`` to the bit against its statement written out in Python.

The kernel reads the rows it will touch ahead of writing them (their cache misses
overlap; docs/performance.md, session 18); what it writes must be exactly what one
touch after another writes: each row brought to the day on its first touch, then the
amounts added in touch order (the day's sanctions, detentions and detentions' friends,
then each speaker's friends), the climate's memory decayed and added to, float32
rounding at each step as numba rounds it (float64 arithmetic, stored as float32).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from simulator.kernels import choice as uk
from simulator.kernels import learning


def _bring(rows: np.ndarray, u: int, day: int, decay_pow: np.ndarray) -> None:
    gap = day - int(rows[u, uk.DAY_COLUMN])
    if gap > 0:
        f = decay_pow[min(gap, len(decay_pow) - 1)]
        for c in range(uk.EVIDENCE_COLUMNS):
            rows[u, c] = np.float32(float(rows[u, c]) * f)
        rows[u, uk.DAY_COLUMN] = day


def learn_reference(
    beliefs: uk.Beliefs,
    day: int,
    decay_pow: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    sanctioned: np.ndarray,
    sanctioned_kind: np.ndarray,
    sanctioned_public: np.ndarray,
    detained: np.ndarray,
    detained_kind: np.ndarray,
    trial_weight: float,
    friend_weight: float,
    friend_detention_weight: float,
    climate_keep: float,
) -> None:
    """The touches one at a time, in the kernel's order (its docstring's statement)."""
    spoke, rows, observed = beliefs.spoke, beliefs.evidence, beliefs.climate_observed
    speakers, n_speakers = beliefs.speakers, beliefs.n_speakers
    if len(spoke) and friend_weight > 0.0:
        for a, k, public in zip(sanctioned, sanctioned_kind, sanctioned_public, strict=True):
            if k <= 0 or not public:
                continue
            if not spoke[a, :6].any():
                speakers[n_speakers[0]] = a
                n_speakers[0] += 1
            spoke[a, uk.SEEN_SANCTION_COLUMN + k - 1] += 1
    touches = [
        (a, uk.REMOVAL_COLUMN + k - 1, 1.0)
        for a, k in zip(sanctioned, sanctioned_kind, strict=True)
        if k > 0
    ]
    for a, k in zip(detained, detained_kind, strict=True):
        if k <= 0:
            continue
        touches.append((a, uk.DETENTION_COLUMN + k - 1, 1.0))
        if friend_detention_weight > 0.0:
            for e in range(indptr[a], indptr[a + 1]):
                touches.append((indices[e], uk.DETENTION_COLUMN + k - 1, friend_detention_weight))
    o = uk.CLIMATE_COLUMN  # the climate's memory: columns of the rows (if on)
    for i in range(len(observed)):
        for k in range(3):
            observed[i, o + k] = np.float32(float(observed[i, o + k]) * climate_keep)
    for u, column, amount in touches:
        _bring(rows, u, day, decay_pow)
        rows[u, column] = np.float32(float(rows[u, column]) + amount)
    n_spoke = int(n_speakers[0]) if len(spoke) else 0
    for j in range(n_spoke):
        a = speakers[j]
        seen = [
            int(spoke[a, uk.SAID_COLUMN + k]) - int(spoke[a, uk.HELD_COLUMN + k]) for k in range(3)
        ]
        trials = [trial_weight * s for s in seen]
        removals = [friend_weight * int(spoke[a, uk.SEEN_SANCTION_COLUMN + k]) for k in range(3)]
        for e in range(indptr[a], indptr[a + 1]):
            u = indices[e]
            _bring(rows, u, day, decay_pow)
            for k in range(3):
                rows[u, uk.TRIALS_COLUMN + k] = np.float32(
                    float(rows[u, uk.TRIALS_COLUMN + k]) + trials[k]
                )
            for k in range(3):
                rows[u, uk.REMOVAL_COLUMN + k] = np.float32(
                    float(rows[u, uk.REMOVAL_COLUMN + k]) + removals[k]
                )
            if len(observed):
                for k in range(3):
                    observed[u, o + k] = np.float32(
                        float(observed[u, o + k]) + (1.0 - climate_keep) * seen[k]
                    )
        spoke[a] = 0
    if len(spoke):
        n_speakers[0] = 0


def _world(rng: np.random.Generator, n: int, climate: bool) -> uk.Beliefs:
    evidence = (rng.random((n, 9)) * 4).astype(np.float32)
    observed = (rng.random((n, 3))).astype(np.float32) if climate else None
    kind = np.ones(3) if climate else None
    beliefs = uk.make_beliefs(
        evidence, day=rng.integers(0, 3, n).astype(np.float32), climate_observed=observed,
        climate_kind=kind, friends_see=True,
    )  # fmt: skip
    return beliefs


def _copy(beliefs: uk.Beliefs) -> uk.Beliefs:
    """A copy whose climate memory is, as the original's, its rows (or none)."""
    rows = beliefs.evidence.copy()
    observed = rows[: len(beliefs.climate_observed)]
    assert beliefs.climate_observed is beliefs.evidence or not len(observed)
    copies = (np.array(field, copy=True) for field in beliefs[1:4])
    return uk.Beliefs(rows, *copies, observed, beliefs.climate_kind.copy())


@pytest.mark.parametrize("climate", [False, True])
@pytest.mark.parametrize(
    ("n", "max_degree", "said_range"), [(300, 60, (10, 40)), (4000, 12, (2500, 3500))]
)
def test_learn_beliefs_is_its_statement_to_the_bit(
    climate: bool, n: int, max_degree: int, said_range: tuple[int, int]
) -> None:
    """Days of sanctions (many more than the kernel reads ahead at once, the same users
    several times among them), detentions with their friends and speakers with many
    friends, some of them friends of each other; in the larger world more speakers a day
    than the kernel lists at once (learning.SPEAKER_BLOCK): every row, memory and speaker
    count equal to the statement's, bit for bit."""
    rng = np.random.default_rng(5)
    degree = rng.integers(0, max_degree, n)
    indptr = np.concatenate([[0], np.cumsum(degree)]).astype(np.int32)
    indices = rng.integers(0, n, indptr[-1]).astype(np.int32)  # repeated friends too
    decay_pow = uk.decay_table(7.0, 12)
    compiled = _world(rng, n, climate)
    reference = _copy(compiled)
    most_speakers = 0
    for day in range(3, 9):
        m = int(rng.integers(0, 400))
        sanctioned = rng.integers(0, 40, m)  # few users: repeats within a read-ahead
        kinds = rng.integers(0, 4, m)
        public = rng.random(m) < 0.6
        detained = rng.integers(0, n, 5)
        detained_kind = rng.integers(0, 4, 5)
        said = [
            (int(rng.integers(0, n)), int(rng.integers(0, 3)), int(rng.random() < 0.2))
            for _ in range(int(rng.integers(*said_range)))
        ]
        for beliefs in (compiled, reference):
            for user, kind, held in said:
                if not beliefs.spoke[user].any():
                    beliefs.speakers[beliefs.n_speakers[0]] = user
                    beliefs.n_speakers[0] += 1
                beliefs.spoke[user, uk.SAID_COLUMN + kind] += 1
                beliefs.spoke[user, uk.HELD_COLUMN + kind] += held
        args = (
            day, decay_pow, indptr, indices, sanctioned, kinds, public, detained,
            detained_kind, 0.3, 0.15, 0.7, 0.8,
        )  # fmt: skip
        most_speakers = max(most_speakers, int(compiled.n_speakers[0]))
        learning.decay_climate(compiled, 0.8)  # the day's decay of the memory, first
        learning.learn_beliefs(compiled, *args)
        learn_reference(reference, *args)
        for got, want, name in zip(compiled, reference, uk.Beliefs._fields, strict=True):
            np.testing.assert_array_equal(got, want, err_msg=f"{name}, day {day}")
    assert (compiled.evidence[:, uk.DAY_COLUMN] == 8).sum() > n // 2  # most rows touched
    if n > 1000:
        assert most_speakers > learning.SPEAKER_BLOCK  # a day's speakers in several blocks


def test_a_users_beliefs_are_one_cache_line() -> None:
    """The evidence, the day and the climate's memory of a user share one 64-byte row
    that starts a cache line: the evidence pass touches each friend of a speaker once,
    not a row and a memory in two arrays."""
    rng = np.random.default_rng(2)
    for n in (1, 7, 1000):
        observed = rng.random((n, 3)).astype(np.float32)
        beliefs = uk.make_beliefs(
            rng.random((n, 9)).astype(np.float32), climate_observed=observed,
            climate_kind=np.ones(3),
        )  # fmt: skip
        rows = beliefs.evidence
        assert rows.ctypes.data % 64 == 0 and rows.strides == (64, 4)
        assert beliefs.climate_observed is rows  # the memory is in the rows
        np.testing.assert_array_equal(rows[:, uk.CLIMATE_COLUMN : uk.CLIMATE_COLUMN + 3], observed)
        off = uk.make_beliefs(rng.random((n, 9)).astype(np.float32))
        assert off.climate_observed.shape == (0, uk.ROW_COLUMNS)  # the climate off: none
        assert numba.typeof(off.climate_observed) == numba.typeof(rows)  # one kernel type
