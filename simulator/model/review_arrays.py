"""The review queue with its state in numpy arrays, for the compiled day step
(docs/model.md, 3.3 Submodels S6): :class:`ArrayReviewQueue`, the same model as
:class:`~simulator.model.review_queue.ReviewQueue` with the same numbers.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from heapq import heapify

import numpy as np
import numpy.typing as npt

from simulator.kernels.queue import (
    FREE_LEVEL,
    LEVEL_COUNT,
    LEVEL_HEAD,
    LEVEL_PRIORITY,
    LEVEL_ROOM,
    LEVEL_START,
    append_pending,
    grown_levels,
    level_arrivals,
    line_has_room,
    new_levels,
    register_levels,
    relaid_line,
    ring_ranges,
    take_pending,
)
from simulator.kernels.review import TOUCHES, created_line_room
from simulator.model.review_queue import (
    SERVICE_BLOCK,
    ReviewQueue,
    ServedBatch,
    StartService,
    StartServices,
)

#: The waiting line's arrays grow by this share of their capacity when full (at least
#: :data:`LINE_GROWTH_MIN` entries), not by doubling: an overloaded line holds millions
#: of items for months, and doubled arrays held up to twice the entries in use.
LINE_GROWTH = 0.25
LINE_GROWTH_MIN = 1 << 10

#: Items mapped at a time by :meth:`ArrayReviewQueue.map_items`.
MAP_BLOCK = 1 << 16


def grown_capacity(capacity: int) -> int:
    """The line's next capacity after ``capacity``: a quarter more, at least
    :data:`LINE_GROWTH_MIN` more."""
    return capacity + max(int(capacity * LINE_GROWTH), LINE_GROWTH_MIN)


class ArrayReviewQueue(ReviewQueue):
    """:class:`ReviewQueue` with its state in numpy arrays, for a compiled day step.

    The same model with the same numbers; only where the state lives differs, so that
    compiled code (:func:`simulator.kernels.review.review_day`: the engine's queue and
    review decisions in one loop) can advance it without converting anything:

    * the busy reviewers' finish times (hours): a binary min-heap in ``finish[:busy]``
      (heapq's layout);
    * the waiting line: a ring per priority level in ``wait_item`` and ``wait_arrival``,
      the rings' places in ``wait_levels`` (:mod:`simulator.kernels.queue`): the FIFO
      of each level of the base class, 16 bytes a waiting item;
    * the unused service times (hours) in ``service[position:]``, topped up by whole
      blocks of :data:`SERVICE_BLOCK` from the generator (or the sampler) in the order
      the base class draws them;
    * ``counters``: ``[busy, waiting, next seq, position]`` (int64, updated in place by
      the compiled step);
    * submitted arrivals not yet processed: appended to growing buffers by
      :meth:`submit` (one compiled check and copy, not a list of chunks), sorted by
      time, then submission, when read (one stable sort of everything in submission
      order: what the base class's merge gives).

    Compiled code never draws: :meth:`reserve` draws ahead the blocks a day may need
    (each start or drop uses one time, so at most one per arrival and waiting item), as
    numba's unboxing of a Generator costs ~12 us a call. Drawing ahead changes no
    number, but only if nothing else draws from ``rng`` (the engine gives each queue a
    child generator of its own). :meth:`run_until` with Python callbacks still works:
    it hands the state to the base class's event loop and takes it back, so this is a
    drop-in :class:`ReviewQueue` (and ``tests/test_review_kernels.py`` compares the two).
    """

    def __init__(
        self,
        servers: int,
        mean_service_hours: float,
        rng: np.random.Generator,
        *,
        service_sampler: Callable[[int], npt.ArrayLike] | None = None,
    ) -> None:
        super().__init__(servers, mean_service_hours, rng, service_sampler=service_sampler)
        self.finish: npt.NDArray[np.float64] = np.empty(self._servers + 1, dtype=np.float64)
        # The waiting line: a ring per priority level (kernels.queue) in two arrays,
        # the rings' places and lengths in the level table.
        self.wait_item: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.wait_arrival: npt.NDArray[np.float64] = np.empty(0, dtype=np.float64)
        self.wait_levels: npt.NDArray[np.int64] = new_levels()
        self.service: npt.NDArray[np.float64] = np.empty(0, dtype=np.float64)
        #: Where ``service`` lives: it is a prefix of this buffer, the rest room for
        #: blocks to come (see :meth:`reserve`); None until the first draw.
        self._service_buffer: npt.NDArray[np.float64] | None = None
        #: ``[busy, waiting, next seq, position, created arrivals, next created seq]``.
        self.counters: npt.NDArray[np.int64] = np.zeros(6, dtype=np.int64)
        # Arrivals created while the queue runs (ReviewQueue.follow), as the compiled
        # step's heap: arrival, created (hours), seq, priority, item.
        self.follow_time: npt.NDArray[np.float64] = np.empty(0, dtype=np.float64)
        self.follow_created: npt.NDArray[np.float64] = np.empty(0, dtype=np.float64)
        self.follow_seq: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.follow_priority: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.follow_item: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._pt: npt.NDArray[np.float64] = np.empty(1024, dtype=np.float64)
        self._pp: npt.NDArray[np.int64] = np.empty(1024, dtype=np.int64)
        self._pi: npt.NDArray[np.int64] = np.empty(1024, dtype=np.int64)
        self._n_pend = 0  # arrivals in the buffers

    # -- input ------------------------------------------------------------------------

    def submit(
        self,
        arrival_hours: npt.ArrayLike,
        priority: npt.ArrayLike,
        item: npt.ArrayLike,
    ) -> None:
        """:meth:`ReviewQueue.submit` (same checks, same errors)."""
        t, p, i = arrival_hours, priority, item
        if (
            type(t) is np.ndarray
            and type(p) is np.ndarray
            and type(i) is np.ndarray
            and t.dtype == np.float64
            and p.dtype == np.int64
            and i.dtype == np.int64
            and t.ndim == p.ndim == i.ndim == 1
            and len(t) == len(p) == len(i)
        ):
            self._reserve_pending(len(t))
            if append_pending(t, p, i, self._now, self._pt, self._pp, self._pi, self._n_pend):
                self._n_pend += len(t)
                self._register_levels(p)
                return
        # Other types, or input to refuse: the base class converts it, or says what is wrong.
        super().submit(arrival_hours, priority, item)
        chunks, self._submitted = self._submitted, []
        for times, priorities, items in chunks:
            self._reserve_pending(len(times))
            stop = self._n_pend + len(times)
            self._pt[self._n_pend : stop] = times
            self._pp[self._n_pend : stop] = priorities
            self._pi[self._n_pend : stop] = items
            self._n_pend = stop
            self._register_levels(np.asarray(priorities, dtype=np.int64))

    def _register_levels(self, priorities: npt.NDArray[np.int64]) -> None:
        """A row of the level table for each of ``priorities`` (grown as needed)."""
        while not register_levels(self.wait_levels, priorities):
            self.wait_levels = grown_levels(self.wait_levels)

    def _reserve_pending(self, more: int) -> None:
        needed = self._n_pend + more
        if needed > len(self._pt):
            # A quarter more, as the line (a day's submissions at a million users:
            # hundreds of thousands, and doubled buffers held up to twice that).
            size = max(needed, grown_capacity(len(self._pt)))
            for name in ("_pt", "_pp", "_pi"):
                old = getattr(self, name)
                grown = np.empty(size, dtype=old.dtype)
                grown[: self._n_pend] = old[: self._n_pend]
                setattr(self, name, grown)

    # -- state ------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Items submitted whose arrival time has not been processed yet."""
        return self._n_pend

    @property
    def waiting(self) -> int:
        """Items that have arrived (arrival < processed time) and not started service."""
        return int(self.counters[1])

    @property
    def busy(self) -> int:
        """Servers busy at the processed time (a service ending exactly then counts)."""
        return int(self.counters[0])

    def items(self) -> npt.NDArray[np.int64]:
        """Every item submitted (or created) and not yet started: pending arrivals, the
        waiting line, created arrivals (int64, in no particular order)."""
        return np.concatenate(
            (
                self._pi[: self._n_pend],
                self._waiting_items(),
                self.follow_item[: self.created_waiting],
            )
        )

    def _ring_ranges(self) -> list[tuple[int, int]]:
        """The slots of the waiting items as ranges ``[lo, hi)`` of ``wait_item``, by
        priority, each level's in order of entry (kernels.queue.ring_ranges)."""
        return [span for row in ring_ranges(self.wait_levels) for span in row]

    def _waiting_items(self) -> npt.NDArray[np.int64]:
        """The waiting items, by priority, then first in."""
        parts = [self.wait_item[lo:hi] for lo, hi in self._ring_ranges()]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def waiting_at(self, priority: int) -> int:
        """Items of ``priority`` waiting in the line."""
        rows = self.wait_levels[:, LEVEL_PRIORITY] == priority
        return int(self.wait_levels[rows, LEVEL_COUNT].sum())

    @property
    def created_waiting(self) -> int:
        """Arrivals created while the queue ran that have not arrived (ReviewQueue.follow)."""
        return int(self.counters[4])

    def map_items(self, mapping: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.int64]]) -> None:
        """As :meth:`ReviewQueue.map_items`: items not yet started are replaced by their
        images; order, times and priorities stay."""
        ranges = [(self._pi, 0, self._n_pend)]
        ranges += [(self.wait_item, lo, hi) for lo, hi in self._ring_ranges()]
        ranges.append((self.follow_item, 0, self.created_waiting))
        for items, lo, hi in ranges:
            # A block at a time: the mapping's temporaries are a block's, not the line's
            # (millions of items under an overload; an image is each item's own).
            for start in range(lo, hi, MAP_BLOCK):
                stop = min(start + MAP_BLOCK, hi)
                items[start:stop] = np.asarray(mapping(items[start:stop].copy()), dtype=np.int64)

    # -- the compiled day step's side ------------------------------------------------------

    def arrivals_before(
        self, t_end_hours: float
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Take the pending arrivals before ``t_end_hours`` (times, priorities, items,
        sorted by time then submission) and mark the queue processed up to it: the
        caller must then process them, with the state, to ``t_end_hours`` (what
        :func:`simulator.kernels.review.review_day` does). ValueError as run_until."""
        t_end = float(t_end_hours)
        if math.isnan(t_end) or t_end < self._now:
            raise ValueError(
                f"t_end_hours {t_end_hours!r} is before the processed time {self._now}"
            )
        at, ap, ai, self._n_pend = take_pending(self._pt, self._pp, self._pi, self._n_pend, t_end)
        self._now = t_end
        return at, ap, ai

    def reserve(
        self, arrivals: int, priorities: npt.ArrayLike | None = None, holds: int = 0
    ) -> None:
        """Room in the waiting line for ``arrivals`` more items, and enough service times
        drawn for every item that could start or be dropped before they are all in.
        ``priorities``: those of the arrivals other than created ones (each level's
        ring gets room for its own; without them every level gets room for all
        ``arrivals``); ``holds``: the HOLD items that may start, whose approvals may
        create one item on each level of an approval's touches (kernels.review.TOUCHES;
        the created arrivals carried in get room on their own levels)."""
        needed = self.waiting + arrivals
        self._reserve_line(arrivals, priorities, holds)
        if self._servers == 0:
            return  # nothing is ever served: no time is ever used
        position = int(self.counters[3])
        unused = len(self.service) - position
        if unused >= needed:
            return
        blocks = []
        drawn = 0
        while unused + drawn < needed:
            if self._sampler is None:  # _new_block's numbers, without its list
                block = self._rng.exponential(self._mean, SERVICE_BLOCK)
            else:
                block = np.asarray(self._new_block(), dtype=np.float64)
            blocks.append(block)
            drawn += len(block)
        # The new times go after the unused ones. ``service`` is a prefix of a buffer
        # with room to spare, so a day's new blocks are written after it, not copied
        # with every unused time (millions under an overloaded line) as a concatenation
        # did each day; only when the buffer is full do the unused times move to the
        # front of a new one, a quarter larger than they need.
        buffer = self._service_buffer
        filled = len(self.service)
        fits = (
            buffer is not None
            and filled + drawn <= len(buffer)
            and self.service.ctypes.data == buffer.ctypes.data
            and self.service.base is buffer  # not replaced (by the Python loop's state)
        )
        if buffer is None or not fits:
            total = unused + drawn
            buffer = np.empty(grown_capacity(total), dtype=np.float64)
            buffer[:unused] = self.service[position:]
            self._service_buffer = buffer
            self.counters[3] = 0
            filled = unused
        for block in blocks:
            buffer[filled : filled + len(block)] = block
            filled += len(block)
        self.service = buffer[:filled]

    def _reserve_line(self, arrivals: int, priorities: npt.ArrayLike | None, holds: int) -> None:
        """Room in every level's ring for what may join it (see :meth:`reserve`): a ring
        short of room grows to a quarter more than it had, or to what it needs; the
        line is then laid out again (kernels.queue.relaid_line)."""
        carried = self.follow_priority[: self.created_waiting]
        self._register_levels(np.concatenate((TOUCHES, carried)) if holds else carried)
        levels = self.wait_levels
        used = levels[:, LEVEL_PRIORITY] != FREE_LEVEL
        if priorities is None:
            joining = np.where(used, arrivals, 0).astype(np.int64)
        else:
            joining = level_arrivals(levels, np.asarray(priorities, dtype=np.int64))
        extra = created_line_room(levels, carried, holds)
        if line_has_room(levels, joining, extra):
            return
        need = levels[:, LEVEL_COUNT] + joining + extra
        room = levels[:, LEVEL_ROOM].copy()
        for r in np.flatnonzero(need > room).tolist():
            room[r] = max(int(need[r]), grown_capacity(int(room[r])))
        room[~used] = 0
        self.wait_item, self.wait_arrival, self.wait_levels = relaid_line(
            self.wait_item, self.wait_arrival, levels, room
        )

    def reserve_created(self, room: int) -> None:
        """Room on the created arrivals' heap for ``room`` more, and levels in the line
        for their priorities (an approval's touches: kernels.review.review_day)."""
        self._register_levels(TOUCHES)
        needed = self.created_waiting + room
        if len(self.follow_time) < needed:
            size = max(needed, grown_capacity(len(self.follow_time)))
            for name in (
                "follow_time", "follow_created", "follow_seq", "follow_priority", "follow_item"
            ):  # fmt: skip
                old = getattr(self, name)
                grown = np.empty(size, dtype=old.dtype)
                grown[: len(old)] = old
                setattr(self, name, grown)

    def settle_created(self, t_end_hours: float) -> None:
        """After the compiled step ran to ``t_end_hours``: :meth:`ReviewQueue._settle_follow`
        on the arrays (created before the end: pending now, in creation order; the rest
        stay, sorted, which is a heap)."""
        f = self.created_waiting
        if f == 0:
            return
        t, c, seq = self.follow_time[:f].copy(), self.follow_created[:f].copy(), self.follow_seq[:f]
        p, i = self.follow_priority[:f].copy(), self.follow_item[:f].copy()
        seq = seq.copy()
        made = c < t_end_hours
        if not made.any():
            return
        order = np.lexsort((seq[made], c[made]))
        self.submit(t[made][order], p[made][order], i[made][order])
        rest = np.lexsort((seq[~made], c[~made], t[~made]))
        kept = len(rest)
        for column, values in (
            (self.follow_time, t[~made]), (self.follow_created, c[~made]),
            (self.follow_seq, seq[~made]), (self.follow_priority, p[~made]),
            (self.follow_item, i[~made]),
        ):  # fmt: skip
            column[:kept] = values[rest]
        self.counters[4] = kept

    def set_capacity(self, servers: int, mean_service_hours: float) -> None:
        """:meth:`ReviewQueue.set_capacity`, with the drawn times and the finish heap in arrays."""
        scale = mean_service_hours / self._mean
        super().set_capacity(servers, mean_service_hours)
        position = int(self.counters[3])
        self.service[position:] *= scale
        if len(self.finish) < self._servers + 1:
            grown = np.empty(self._servers + 1, dtype=np.float64)
            busy = int(self.counters[0])
            grown[:busy] = self.finish[:busy]  # the heap's layout is kept
            self.finish = grown

    # -- the Python event loop on the same state --------------------------------------------

    def run_until(
        self,
        t_end_hours: float,
        start_service: StartService | None = None,
        start_services: StartServices | None = None,
        follow_ons: bool = False,
    ) -> ServedBatch:
        """:meth:`ReviewQueue.run_until` (Python callbacks) on this queue's state."""
        self._to_lists()
        try:
            return super().run_until(t_end_hours, start_service, start_services, follow_ons)
        finally:
            self._from_lists()

    def _to_lists(self) -> None:
        """The state as the base class holds it (heap lists, FIFO per level, a list of
        unused service times)."""
        busy = self.busy
        self._finish = self.finish[:busy].tolist()  # a valid heapq heap as it is
        self._queues = {}
        priorities = self.wait_levels[:, LEVEL_PRIORITY].tolist()
        for level, spans in zip(priorities, ring_ranges(self.wait_levels), strict=True):
            if spans:
                self._queues[level] = deque(
                    (item, arrival)
                    for lo, hi in spans
                    for item, arrival in zip(
                        self.wait_item[lo:hi].tolist(), self.wait_arrival[lo:hi].tolist(),
                        strict=True,
                    )
                )  # fmt: skip
        self._levels = sorted(self._queues)  # a sorted list is a heap
        self._svc = self.service[int(self.counters[3]) :].tolist()
        self._svc_pos = 0
        f = self.created_waiting
        self._follow = list(
            zip(
                self.follow_time[:f].tolist(), self.follow_created[:f].tolist(),
                self.follow_seq[:f].tolist(), self.follow_priority[:f].tolist(),
                self.follow_item[:f].tolist(), strict=True,
            )
        )  # fmt: skip
        heapify(self._follow)
        self._follow_seq = int(self.counters[5])
        m = self._n_pend
        order = np.argsort(self._pt[:m], kind="stable")  # by time, then submission
        self._pend_t, self._pend_p = self._pt[:m][order], self._pp[:m][order]
        self._pend_i, self._submitted = self._pi[:m][order], []
        self._n_pend = 0

    def _from_lists(self) -> None:
        """Back from the base class's lists into the arrays."""
        finish = np.asarray(self._finish, dtype=np.float64)
        if len(self.finish) <= len(finish):
            self.finish = np.empty(len(finish) + 1, dtype=np.float64)
        self.finish[: len(finish)] = finish  # still a heap
        levels = sorted(self._queues)  # by priority, each level first in first
        entries = [
            (level, item, arrival) for level in levels for item, arrival in self._queues[level]
        ]
        n = len(entries)
        priorities = np.array([e[0] for e in entries], dtype=np.int64).reshape(n)
        self._register_levels(priorities)  # (the rows of pending arrivals' levels stay)
        # Sorted by priority, each level in order of entry: the rings laid end to end,
        # each exactly full, in the rows' order (also by priority).
        self.wait_item = np.array([e[1] for e in entries], dtype=np.int64).reshape(n)
        self.wait_arrival = np.array([e[2] for e in entries], dtype=np.float64).reshape(n)
        table = self.wait_levels
        count = level_arrivals(table, priorities)
        table[:, LEVEL_START] = np.concatenate(([0], np.cumsum(count)[:-1]))
        table[:, LEVEL_ROOM] = count
        table[:, LEVEL_HEAD] = 0
        table[:, LEVEL_COUNT] = count
        self.service = np.asarray(self._svc[self._svc_pos :], dtype=np.float64)
        follow = sorted(self._follow)  # a sorted list is a heap
        f = len(follow)
        self.reserve_created(f - self.created_waiting)
        for k, name in enumerate(
            ("follow_time", "follow_created", "follow_seq", "follow_priority", "follow_item")
        ):
            getattr(self, name)[:f] = [entry[k] for entry in follow]
        self.counters[:] = (len(finish), n, n, 0, f, self._follow_seq)
        self._follow = []
        self._finish, self._queues, self._levels, self._svc, self._svc_pos = [], {}, [], [], 0
        # Still pending (sorted) first, then whatever callbacks submitted meanwhile.
        self._merge_submitted()
        m, later = len(self._pend_t), self._n_pend
        self._reserve_pending(m)
        buffers = (self._pt, self._pp, self._pi)
        pendings = (self._pend_t, self._pend_p, self._pend_i)
        for buffer, pending in zip(buffers, pendings, strict=True):
            buffer[m : m + later] = buffer[:later].copy()
            buffer[:m] = pending
        self._n_pend = m + later
        # Arrivals the Python loop created for after its end came through the base class,
        # not submit(): their priorities get their rings here.
        self._register_levels(self._pp[: self._n_pend])
        self._pend_t = np.empty(0, dtype=np.float64)
        self._pend_p = np.empty(0, dtype=np.int64)
        self._pend_i = np.empty(0, dtype=np.int64)
