"""Records of the posts a rule touched: held, flagged, noticed or ordered down.

Untouched posts are only counted (see :mod:`simulator.output.recorder`); a record exists only
where a platform or regulator has to act on one post, so memory grows with the speech
the rules touch, not with all speech. Columns are numpy arrays that grow by doubling.

**Compaction** (:meth:`PostStore.compact`). Records nothing can act on any more are
freed at the end of a day and the rest renumbered, keeping their order (so no output
changes). Every structure that holds post ids (the review queues' items, the order
book, the prohibited posts audits count, ...) *registers* with the store when it is
made (:meth:`PostStore.register`, :class:`simulator.model.views.HoldsPostIds`):
compaction asks each one which ids it still needs, frees the others, and has each one
renumber what it holds. A holder that is not registered would keep stale ids:
:func:`unregistered_holders` finds one anywhere in a run's objects (tests/test_post_store.py
runs it over a whole simulation).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.kernels.numeric import keep_rows
from simulator.model.views import HoldsPostIds, IntArray

_COLUMNS: dict[str, tuple[Any, float | int | bool]] = {
    "time_hours": (np.float64, 0.0),  # when the author posted
    "published_hours": (np.float64, np.inf),  # when it went public (inf: not yet / never)
    "removed_hours": (np.float64, np.inf),  # when it came down (inf: still up)
    "blocked_hours": (np.float64, np.inf),  # when pre-publication review rejected it
    "order_hours": (np.float64, np.inf),  # when a regulator's order arrives (inf: none)
    "reviewer_score": (np.float32, 0.0),  # how prohibited it looks to a human reviewer
    "appeal_score": (np.float32, 0.0),  # how it looks to the reviewer of an appeal
    "author": (np.int64, 0),  # narrowed to the users (see PostStore)
    "day": (np.int32, 0),  # narrowed to the horizon
    "platform": (np.int16, 0),  # narrowed to the platforms
    "kind": (np.int8, 0),
    "channel": (np.int8, 0),
    "removed_by": (np.int8, -1),  # the review action that removed it (see Action)
    "notice_hours": (np.float64, np.inf),  # when its notice arrived (inf: none; S5b)
    "notice_sender": (np.int8, -1),  # who sent the notice (model.notices.SENDERS)
    "appealed_by": (np.int8, -1),  # the route of the removal last appealed
    # A held post's notice and order delays after approval (inf: none; issue 17,
    # model.held_touches). float64: t_a + delay is then the published post's sum exactly.
    "held_notice_delay": (np.float64, np.inf),
    "held_order_delay": (np.float64, np.inf),
}


#: The narrowest type each bounded column takes. At least int32 authors and int16 days:
#: the compiled kernels that read these columns then see the same types for every
#: population up to 2**31 users and every horizon up to 32,767 days, and are compiled
#: once per machine rather than once per size (seconds each on a first run). The store
#: holds only touched posts, so the wider columns of small worlds cost little.
_NARROWEST: dict[str, Any] = {"author": np.int32, "day": np.int16, "platform": np.int8}


def _smallest_int(largest: int, at_least: Any = np.int8) -> Any:
    """The narrowest signed integer type, ``at_least`` or wider, that holds
    0..``largest``."""
    for dtype in (np.int8, np.int16, np.int32):
        if np.dtype(dtype).itemsize < np.dtype(at_least).itemsize:
            continue
        if largest <= np.iinfo(dtype).max:
            return dtype
    return np.int64


class PostStore:
    """Column store of touched posts; row ``i`` is post id ``i``.

    :meth:`keep` frees the records nothing can act on any more: the kept rows move to
    the front, in order, so post ids are renumbered (the caller remaps what it holds).

    ``users``, ``days`` and ``platforms`` bound the author ids, days and platform
    indices to be stored: their columns take the narrowest integer type that holds
    them, but no narrower than :data:`_NARROWEST` (a million users: int32 authors;
    more than 2**31: int64), exactly. Unbounded by default.
    """

    #: Records are compacted at the end of a day once the store holds at least this many,
    #: and this many times the records found live the last time: each compaction frees
    #: at least half of what it scans.
    compact_min_records = 1 << 16
    compact_ratio = 2.0
    #: Also compact at the end of a day when the store could not take as many records
    #: again without growing (see :meth:`compact`).
    compact_before_growing = True
    #: The columns grow by this share of their capacity when full (at least
    #: :attr:`growth_min_rows` rows), not by doubling: under an overloaded review line
    #: most records stay live for months, and a doubled store of millions of records
    #: held up to twice the rows in use, and three times while it grew (the old
    #: columns and the new ones at once; docs/performance.md, "The backlog's memory").
    growth = 0.25
    growth_min_rows = 1 << 12

    # The columns, read as attributes (see __getattr__): declared for type checkers.
    time_hours: NDArray[np.float64]
    published_hours: NDArray[np.float64]
    removed_hours: NDArray[np.float64]
    blocked_hours: NDArray[np.float64]
    order_hours: NDArray[np.float64]
    reviewer_score: NDArray[np.float32]
    appeal_score: NDArray[np.float32]
    author: NDArray[Any]
    day: NDArray[Any]
    platform: NDArray[Any]
    kind: NDArray[np.int8]
    channel: NDArray[np.int8]
    removed_by: NDArray[np.int8]
    held_notice_delay: NDArray[np.float64]
    held_order_delay: NDArray[np.float64]

    def __init__(
        self,
        capacity: int = 1024,
        *,
        users: int | None = None,
        days: int | None = None,
        platforms: int | None = None,
    ) -> None:
        self.size = 0  # records held (rows in use)
        self.appended = 0  # records ever added
        self._capacity = capacity
        self._types: dict[str, tuple[Any, float | int | bool]] = dict(_COLUMNS)
        for name, bound in (("author", users), ("day", days), ("platform", platforms)):
            if bound is not None:
                dtype = _smallest_int(max(bound - 1, 0), _NARROWEST[name])
                self._types[name] = (dtype, _COLUMNS[name][1])
        self.columns: dict[str, NDArray[Any]] = {
            name: np.full(capacity, fill, dtype=dtype)
            for name, (dtype, fill) in self._types.items()
        }
        #: The structures holding post ids, in the order they registered.
        self.holders: list[HoldsPostIds] = []
        self.live_at_last_compaction = 0
        self._appended_at_last_day = 0  # ``appended`` when compact was last asked

    def __getattr__(self, name: str) -> NDArray[Any]:
        # Columns read as attributes (store.removed_hours); only the live rows.
        columns = self.__dict__.get("columns")
        if columns is not None and name in columns:
            return columns[name]
        raise AttributeError(name)

    def append(self, **values: NDArray[Any] | float | int) -> NDArray[np.int64]:
        """Add rows: every array given has the same length (at least one is an array),
        scalars are repeated; returns their post ids. Columns not given keep their fill
        (``inf`` times, ``-1`` remover)."""
        count = next(np.size(v) for v in values.values() if np.ndim(v) == 1)
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"unknown post columns: {sorted(unknown)}")
        self._reserve(self.size + count)
        start, stop = self.size, self.size + count
        for name, array in values.items():
            # A slice, not the ids: a contiguous copy, no index array.
            self.columns[name][start:stop] = array
        self.size = stop
        self.appended += count
        return np.arange(start, stop, dtype=np.int64)

    def register(self, holder: HoldsPostIds) -> None:
        """Add ``holder`` to the structures compaction asks and renumbers."""
        if any(known is holder for known in self.holders):
            raise ValueError(f"{type(holder).__name__} is registered twice")
        self.holders.append(holder)

    def compact(self, day: int) -> bool:
        """Free the records no registered holder needs after day ``day``'s step, once
        the store is large enough (``compact_min_records``, ``compact_ratio``), and
        renumber the rest in every holder. Returns whether it compacted."""
        appended_today = self.appended - self._appended_at_last_day
        self._appended_at_last_day = self.appended
        due = self.size >= max(
            self.compact_min_records, self.compact_ratio * self.live_at_last_compaction
        )
        # Also before the store would have to grow to take as many records again as
        # today's (a grown store keeps its capacity): under a long review backlog the
        # store then stays near the live records plus a day's, not up to twice the live
        # ones (docs/performance.md, "Session 19"). Which records are kept is the same.
        crowded = (
            self.compact_before_growing
            and self.size >= self.compact_min_records
            and self.size + appended_today > self._capacity
        )
        if not (due or crowded):
            return False
        # A mark per record, not np.unique of the references: no sort. Each holder's ids
        # marked as they come, none kept (millions under an overloaded review line).
        marked = np.zeros(self.size, dtype=bool)
        for holder in self.holders:
            for ids in holder.live_post_ids(day):
                marked[ids] = True
        live = np.flatnonzero(marked)
        self.live_at_last_compaction = len(live)
        if len(live) == self.size:
            return False
        self.keep(live)
        del live  # (before the renumbering's arrays)
        renumbering = Renumbering(marked)
        for holder in self.holders:
            holder.renumber_post_ids(renumbering)
        return True

    def keep(self, ids: NDArray[np.int64]) -> None:
        """Keep only the records ``ids`` (sorted, unique): they become ids
        ``0 .. len(ids) - 1`` in the same order; the rows freed get their fill back."""
        kept = len(ids)
        ids = np.asarray(ids, dtype=np.int64)
        for name, (_, fill) in self._types.items():
            column = self.columns[name]
            keep_rows(column, ids)  # column[:kept] = column[ids], in place
            column[kept : self.size] = fill
        self.size = kept

    def _reserve(self, needed: int) -> None:
        if needed <= self._capacity:
            return
        capacity = max(
            needed,
            self._capacity + max(int(self._capacity * self.growth), self.growth_min_rows),
        )
        for name, (dtype, fill) in self._types.items():
            # Each row written once: the rows in use copied, the rest filled.
            grown = np.empty(capacity, dtype=dtype)
            grown[: self.size] = self.columns[name][: self.size]
            grown[self.size :] = fill
            self.columns[name] = grown
        self._capacity = capacity

    def memory_bytes(self) -> int:
        return int(sum(column.nbytes for column in self.columns.values()))


class Renumbering:
    """The new ids once only the ``marked`` records are kept (their ranks among them)."""

    def __init__(self, marked: NDArray[np.bool_]) -> None:
        self.marked = marked
        # int32 where the ids fit (half the bytes; the same values): ids returned are int64.
        dtype = np.int32 if len(marked) < np.iinfo(np.int32).max else np.int64
        self.new_id: NDArray[Any] = np.cumsum(marked, dtype=dtype)
        self.new_id -= 1

    def __call__(self, ids: IntArray) -> IntArray:
        """New ids of records ``ids``. A record not kept is an error: a record still
        referenced was freed (a holder did not list it: a bug)."""
        marked = self.marked
        if not marked[ids].all():
            raise AssertionError(
                f"post records still referenced were freed: {ids[~marked[ids]][:5]}"
            )
        result: IntArray = self.new_id[ids].astype(np.int64, copy=False)
        return result

    def surviving(self, ids: IntArray) -> IntArray:
        """New ids of those of ``ids`` that were kept, in order (freed ones dropped)."""
        result: IntArray = self.new_id[ids[self.marked[ids]]].astype(np.int64, copy=False)
        return result


def unregistered_holders(root: object, store: PostStore) -> list[str]:
    """Every object reachable from ``root`` (attributes, list, tuple and dict items)
    that holds post ids (has ``live_post_ids`` and ``renumber_post_ids``) but is not
    registered with ``store``, by the shortest path it is found at (breadth first):
    compaction would leave its ids stale."""
    registered = {id(holder) for holder in store.holders}
    found: list[str] = []
    seen: set[int] = set()
    queue: deque[tuple[str, object]] = deque([("root", root)])
    while queue:
        path, obj = queue.popleft()
        if id(obj) in seen or isinstance(obj, (np.ndarray, str, bytes, int, float, type)):
            continue
        seen.add(id(obj))
        if (
            hasattr(obj, "live_post_ids")
            and hasattr(obj, "renumber_post_ids")
            and id(obj) not in registered
        ):
            found.append(path)
        children: Iterable[tuple[str, object]]
        if isinstance(obj, dict):
            children = ((f"{path}[{key!r}]", value) for key, value in obj.items())
        elif isinstance(obj, (list, tuple)):
            children = ((f"{path}[{i}]", value) for i, value in enumerate(obj))
        else:
            children = (
                (f"{path}.{name}", value) for name, value in getattr(obj, "__dict__", {}).items()
            )
        queue.extend(children)
    return sorted(found)
