"""Arrivals a review queue's own decisions create while it runs (issue 17: a held
post approved at ``t_a`` gets the flag, notice and order of a post published then;
docs/model.md S5, S6): :class:`CreatedArrivals`, the part of
:class:`~simulator.model.review_queue.ReviewQueue` that takes them, and the event loop
that merges them with the submitted arrivals (the statement
:func:`simulator.kernels.review.review_day` follows step by step).

SimPy's order, for an item made as a process at its HOLD review's finish ``t_a``: by
arrival time; at one instant after every arrival submitted before the run (their
processes were made first), then by creation time and creation order. One arriving at
or after the run's end joins the pending arrivals when the run ends if it was made
before the end (so before the next submissions), else it waits on the heap and comes,
at an instant, after the next run's submissions.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

StartService = Callable[[int, float, float], bool]


_Entry = tuple[int, float]  # (item, arrival_hours) of a waiting item
#: What a run records as it goes: started items, their arrivals, starts and finishes
#: (hours), and the dropped items.
_Served = tuple[list[int], list[float], list[float], list[float], list[int]]


@dataclass(frozen=True, eq=False)
class ServedBatch:
    """What one :meth:`ReviewQueue.run_until` call did, as arrays.

    ``item``, ``arrival_hours``, ``start_hours`` and ``finish_hours`` describe the items
    that started service in the call, in start order (int64 / float64, hours).
    ``dropped_item`` (int64) lists the items the callback refused, in the order offered.
    """

    item: npt.NDArray[np.int64]
    arrival_hours: npt.NDArray[np.float64]
    start_hours: npt.NDArray[np.float64]
    finish_hours: npt.NDArray[np.float64]
    dropped_item: npt.NDArray[np.int64]

    def __len__(self) -> int:
        """Number of items that started service."""
        return int(self.item.size)


class CreatedArrivals:
    """The created arrivals of a :class:`~simulator.model.review_queue.ReviewQueue`
    (a mixin: the queue's state is its own)."""

    # The queue's state this part reads and writes (set by ReviewQueue.__init__).
    _now: float
    _servers: int
    _pend_t: npt.NDArray[np.float64]
    _pend_p: npt.NDArray[np.int64]
    _pend_i: npt.NDArray[np.int64]
    _submitted: list[tuple[npt.NDArray[Any], ...]]
    _levels: list[int]
    _finish: list[float]
    #: Arrivals created while the queue runs (:meth:`follow`): a heap of (arrival,
    #: created, seq, priority, item), hours.
    _follow: list[tuple[float, float, int, int, int]]
    _follow_seq: int

    if TYPE_CHECKING:  # the queue's own methods this part calls

        def _merge_submitted(self) -> None: ...

        def _draw(self) -> float: ...

        def _enqueue(self, priority: int, entry: _Entry) -> None: ...

        def _dequeue(self) -> _Entry: ...

        def _resume_granted(
            self, fifo: deque[_Entry | None], users: int, t: float, start: StartService
        ) -> None: ...

        def _start_service(
            self, item: int, arrival: float, begin: float, cb: StartService | None, out: _Served
        ) -> bool: ...

    def follow(self, arrival_hours: float, priority: int, item: int, created_hours: float) -> None:
        """An arrival created while the queue runs (by the callback of a service
        starting now, for an item made at ``created_hours``, that service's finish, and
        arriving at ``arrival_hours`` >= it; issue 17: an approved held post's flag,
        notice and order). :meth:`run_until` merges it with the submitted arrivals as
        SimPy would, a process made at ``created_hours``: by time; at one instant after
        every arrival submitted before the run, then by creation time and order. One
        arriving at or after the run's end joins the pending arrivals when the run ends
        if it was created before then (so before the next submissions); one created
        after it stays here and is merged into the next run as it would have been
        into this one (after that run's submissions at an instant)."""
        entry = (float(arrival_hours), float(created_hours), self._follow_seq, int(priority))
        heappush(self._follow, (*entry, int(item)))
        self._follow_seq += 1

    def _settle_follow(self, t_end: float) -> None:
        """After a run to ``t_end``: the created arrivals made before ``t_end`` (all
        arrive at or after it) become pending arrivals, in creation order; the others
        stay on the heap."""
        if not self._follow:
            return
        made = sorted((e for e in self._follow if e[1] < t_end), key=lambda e: (e[1], e[2]))
        if not made:
            return
        self._follow = [e for e in self._follow if e[1] >= t_end]
        heapify(self._follow)
        self._submitted.append(
            (
                np.array([e[0] for e in made], dtype=np.float64),
                np.array([e[3] for e in made], dtype=np.int64),
                np.array([e[4] for e in made], dtype=np.int64),
            )
        )

    def _run_merged(self, t_end: float, cb: StartService | None) -> ServedBatch:
        """:meth:`run_until` event by event with the arrivals created meanwhile
        (:meth:`follow`) merged in: the statement
        :func:`simulator.kernels.review.review_day` follows step by step."""
        self._merge_submitted()
        n = int(np.searchsorted(self._pend_t, t_end, side="left"))
        at: list[float] = self._pend_t[:n].tolist()
        ap: list[int] = self._pend_p[:n].tolist()
        ai: list[int] = self._pend_i[:n].tolist()
        self._pend_t, self._pend_p, self._pend_i = (
            self._pend_t[n:], self._pend_p[n:], self._pend_i[n:]
        )  # fmt: skip
        out_item: list[int] = []
        out_arr: list[float] = []
        out_start: list[float] = []
        dropped: list[int] = []
        out_fin: list[float] = []
        follow = self._follow
        inf = math.inf

        def next_time(i: int) -> float:
            # The day's arrival, or a created one if strictly earlier (and before t_end).
            ts = at[i] if i < n else inf
            if follow and follow[0][0] < ts and follow[0][0] < t_end:
                return follow[0][0]
            return ts

        def take(i: int) -> tuple[int, int, int]:
            if i < n and (not follow or at[i] <= follow[0][0]):
                return ap[i], ai[i], i + 1
            entry = heappop(follow)
            return entry[3], entry[4], i

        out = (out_item, out_arr, out_start, out_fin, dropped)

        def start(item: int, arrival: float, begin: float) -> bool:
            return self._start_service(item, arrival, begin, cb, out)

        fh = self._finish
        c = self._servers
        i = 0
        ta = next_time(i)
        while True:
            if fh and fh[0] < ta:
                tf = fh[0]  # a service ends (strictly before the next arrival)
                if tf >= t_end:
                    break
                heappop(fh)
                while self._levels:
                    item, arr = self._dequeue()
                    if start(item, arr, tf):
                        break
                ta = next_time(i)  # an approval may have created an earlier arrival
                continue
            if ta == inf:
                break
            prio, item, i = take(i)
            if len(fh) < c:
                if next_time(i) == ta:
                    # Others arrive at this instant: replayed as SimPy (_tied_instant).
                    users = len(fh)
                    fifo: deque[_Entry | None] = deque()
                    while True:
                        self._enqueue(prio, (item, ta))
                        if users < c:
                            fifo.append(self._dequeue())
                            users += 1
                        if next_time(i) != ta:
                            break
                        prio, item, i = take(i)
                    self._resume_granted(fifo, users, ta, start)
                    ta = next_time(i)
                    continue
                start(item, ta, ta)
            else:
                self._enqueue(prio, (item, ta))
            ta = next_time(i)
        self._now = t_end
        self._settle_follow(t_end)
        return ServedBatch(
            item=np.array(out_item, dtype=np.int64),
            arrival_hours=np.array(out_arr, dtype=np.float64),
            start_hours=np.array(out_start, dtype=np.float64),
            finish_hours=np.array(out_fin, dtype=np.float64),
            dropped_item=np.array(dropped, dtype=np.int64),
        )
