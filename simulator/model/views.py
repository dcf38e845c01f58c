"""What the mechanisms read and write of a run, as narrow protocols (no engine import).

The engine's post store, recorder and post-id registry satisfy these; a mechanism
module names only the fields it uses, so the model never imports the engine or the
output layer (docs/architecture.md, "Layers").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]


class RunLog(Protocol):
    """Where counts and institutional events go (:class:`simulator.output.recorder.Recorder`)."""

    tallies: dict[str, NDArray[np.int64]]

    def tally(self, name: str, kind: Any, amount: int = 1) -> None:
        """Add ``amount`` to tally ``name`` for ``kind`` (one kind or an array of kinds)."""

    def event(self, *args: Any, **kwargs: Any) -> None:
        """One event: ``(time_hours, event, platform, user=-1, kind="", amount=0.0,
        detail="")``."""

    def events_batch(self, *args: Any, **kwargs: Any) -> None:
        """Many events of one kind and platform: ``(times, event, platform, users,
        kinds, details=None)``."""


class PostRecords(Protocol):
    """The post store's columns a mechanism reads or writes (row ``i``: post id ``i``;
    :class:`simulator.engine.post_store.PostStore`)."""

    time_hours: NDArray[np.float64]
    published_hours: NDArray[np.float64]
    removed_hours: NDArray[np.float64]
    order_hours: NDArray[np.float64]
    appeal_score: NDArray[np.float32]
    author: NDArray[Any]
    platform: NDArray[Any]
    kind: NDArray[np.int8]
    removed_by: NDArray[np.int8]


class Renumbering(Protocol):
    """The new post ids after a compaction (:class:`simulator.engine.post_store.Renumbering`)."""

    def __call__(self, ids: IntArray) -> IntArray:
        """The new ids of records ``ids``; raises if one of them was freed (a holder
        that did not list an id it still needed: a bug)."""

    def surviving(self, ids: IntArray) -> IntArray:
        """The new ids of those of ``ids`` that were kept, in order; freed ones dropped."""


class HoldsPostIds(Protocol):
    """A structure that holds post ids. It registers itself with the post store when it
    is made (:class:`PostIdRegistry`); when the store frees the records nothing can act
    on any more, it asks every registered holder which ids it still needs and then has
    it renumber them, so a holder can neither lose a record it needs nor keep a stale
    id (docs/architecture.md, "The post store and its compaction")."""

    def live_post_ids(self, day: int) -> Iterable[IntArray]:
        """The post ids this holder may still act on after day ``day``'s step (it may
        first drop what it will never read again)."""

    def renumber_post_ids(self, renumber: Renumbering) -> None:
        """Replace every id held by its new id (``renumber(ids)``; the order of ids is
        kept)."""


class PostIdRegistry(Protocol):
    """The post store as holders see it: where they register."""

    def register(self, holder: HoldsPostIds) -> None:
        """Add ``holder`` to the structures whose ids compaction keeps and renumbers."""
