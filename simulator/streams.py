"""Random streams: every draw in a run comes from one seed through ``SeedSequence``.

Each source of randomness gets its own ``numpy.random.Generator`` so that switching a rule
off (the counterfactual) leaves the draws of every other stream untouched: the two runs
share the intended speech exactly (common random numbers), and their difference is the
rules' effect rather than noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Streams:
    """The named generators of one run. Build with :meth:`from_seed`."""

    population: np.random.Generator  # users' traits and the social network (set-up only)
    speech: np.random.Generator  # intended posts: counts, authors, times
    split: np.random.Generator  # aggregate splits of benign posts by group
    behaviour: np.random.Generator  # users' choices: registration, leaving, circumventing
    moderation: np.random.Generator  # filters, notices, reviewer judgements
    review: np.random.Generator  # review service times
    regulator: np.random.Generator  # audits, monitoring
    police: np.random.Generator  # investigations and detentions
    turnover: np.random.Generator  # base renewal of users: the same in the paired runs
    access: np.random.Generator  # users' tastes when access changes (S9a)
    reporting: np.random.Generator  # which removals are reported proactively (S11)
    appeals: np.random.Generator  # which removals are appealed, when, and their review

    @classmethod
    def from_seed(cls, seed: int) -> Streams:
        # The ninth child came last (issue 16), the tenth after it (issue 17):
        # ``spawn(10)[:9]`` equals ``spawn(9)``, so the first nine streams are those of
        # every earlier version. The eleventh and twelfth (issue 18) give proactive
        # reporting and appeals draws of their own: they drew from ``moderation``, so
        # switching either rule on shifted every later moderation draw, and an
        # attribution of the rules (experiments.attribution) measured that shift as the
        # rule's effect. The first ten are unchanged.
        children = np.random.SeedSequence(seed).spawn(12)
        return cls(*(np.random.default_rng(child) for child in children))


#: Spawn keys of streams kept outside :class:`Streams`, far past its sequential children
#: (``spawn(10)``: keys 0 to 9), so a child added there later never coincides with one of
#: these, and these draw nothing from the others.
NOTICE_SENDERS_KEY = 1_000  # who sent each notice (docs/model.md S5b)


def keyed_stream(seed: int, key: int) -> np.random.Generator:
    """The generator of child ``key`` of the run's ``SeedSequence(seed)`` (the same child
    ``spawn`` would make as its ``key``-th), for a stream only some runs use: made on
    demand, it changes no draw of :class:`Streams`."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))


#: Mixed into a run's seed for the stream that assigns users to groups.
GROUPS_KEY = 0x6A0


def group_stream(seed: int) -> np.random.Generator:
    """The stream that assigns users to groups (docs/model.md "Groups"): its own seed
    sequence, ``SeedSequence([seed, GROUPS_KEY])``, not a child of the run's, so no
    other stream's draws change with groups, and a scenario whose groups are all alike
    runs exactly as one without groups."""
    return np.random.default_rng(np.random.SeedSequence([seed, GROUPS_KEY]))


def replication_seeds(seed: int, replications: int) -> list[int]:
    """Independent seeds for ``replications`` runs, drawn from ``SeedSequence(seed).spawn``."""
    return [
        int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
        for child in np.random.SeedSequence(seed).spawn(replications)
    ]
