"""A platform's human review queue: ``c`` reviewers, non-preemptive priorities, fast.

:class:`ReviewQueue` is an exact, event-by-event equivalent of a SimPy
``PriorityResource(capacity=servers)`` in which every item is a process, created up
front in submission order, that waits until its arrival time, requests the resource
with its priority, holds it for its service time and releases it. Instead of SimPy
events it runs a tight ``heapq`` loop, so it handles millions of items a second.

Ordering rules (all SimPy's):

* lower priority number first; within a priority, first come first served, with
  arrivals at the same instant in submission order;
* at one instant, arrivals request before services that end at that instant release
  (in such a SimPy model every arrival timeout is scheduled before any service timeout);
* when a reviewer frees, the best waiting item starts at that same instant.

Times are in hours. The model runs in batches: :meth:`ReviewQueue.submit` arrivals (any
time at or after the processed time), then :meth:`ReviewQueue.run_until` processes every
event strictly before ``t_end``. Items that started may finish after ``t_end``.

(docs/model.md, 3.3 Submodels S6.) :class:`~simulator.model.review_arrays.ArrayReviewQueue`
holds the same queue in arrays for the compiled day step
(:func:`simulator.kernels.review.review_day`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from heapq import heapify, heappop, heappush
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.model.created_arrivals import (
    CreatedArrivals,
    ServedBatch,
    StartService,
    _Entry,
    _Served,
)

SERVICE_BLOCK = 4096


StartServices = Callable[
    [npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]],
    npt.NDArray[np.bool_],
]


class ReviewQueue(CreatedArrivals):
    """An M/G/c priority queue of review items, advanced a batch at a time.

    ``servers`` reviewers (0 means nothing is ever served), each review lasting an
    exponential time with mean ``mean_service_hours``. The i-th service start of the
    queue's life uses the i-th service time drawn, where service times come from
    ``rng.exponential(mean_service_hours, SERVICE_BLOCK)`` blocks (or from
    ``service_sampler(SERVICE_BLOCK)`` if given: a function returning that many service
    times in hours, e.g. for other distributions or for tests). A drawn time is used up
    even when the callback drops the item, so results depend only on the seed.
    """

    def __init__(
        self,
        servers: int,
        mean_service_hours: float,
        rng: np.random.Generator,
        *,
        service_sampler: Callable[[int], npt.ArrayLike] | None = None,
    ) -> None:
        if isinstance(servers, bool) or int(servers) != servers or servers < 0:
            raise ValueError(f"servers must be a non-negative integer, got {servers!r}")
        if not (math.isfinite(mean_service_hours) and mean_service_hours > 0):
            raise ValueError(
                f"mean_service_hours must be positive and finite, got {mean_service_hours!r}"
            )
        self._servers = int(servers)
        self._mean = float(mean_service_hours)
        self._rng = rng
        self._sampler = service_sampler
        self._now = 0.0  # every event before this time (hours) has been processed
        # Submitted arrivals not yet processed, sorted by (time, submission order).
        self._pend_t: npt.NDArray[np.float64] = np.empty(0, dtype=np.float64)
        self._pend_p: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._pend_i: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        # Submitted since the last merge into the sorted arrays: merged once, when read
        # (re-sorting everything on every submission cost a sort per call).
        self._submitted: list[tuple[npt.NDArray[Any], ...]] = []
        # Waiting line: one FIFO per priority level, and a heap of the non-empty levels.
        self._queues: dict[int, deque[_Entry]] = {}
        self._levels: list[int] = []
        self._finish: list[float] = []  # heap of finish times (hours) of busy servers
        self._svc: list[float] = []  # current block of service times (hours)
        self._svc_pos = 0  # next unused index in ``_svc``
        # Arrivals created while the queue runs (:meth:`follow`): a heap of (arrival,
        # created, seq, priority, item), hours; those arriving at or after the processed
        # time and created before it move to the pending arrivals (:meth:`_settle_follow`).
        self._follow: list[tuple[float, float, int, int, int]] = []
        self._follow_seq = 0

    # -- state ------------------------------------------------------------------------

    @property
    def servers(self) -> int:
        """Number of reviewers."""
        return self._servers

    def set_capacity(self, servers: int, mean_service_hours: float) -> None:
        """New staff from now on (docs/model.md S6a): ``servers`` desks (never fewer than
        now: a service under way is not cut short) and a mean service time. The service
        times already drawn and not used are rescaled to the new mean (an exponential
        time times a constant is exponential with the scaled mean), so nothing is drawn."""
        if int(servers) != servers or servers < self._servers:
            raise ValueError(f"servers must be an integer >= {self._servers}, got {servers!r}")
        if not (math.isfinite(mean_service_hours) and mean_service_hours > 0):
            raise ValueError(
                f"mean_service_hours must be positive and finite, got {mean_service_hours!r}"
            )
        scale = mean_service_hours / self._mean
        self._svc[self._svc_pos :] = [time * scale for time in self._svc[self._svc_pos :]]
        self._servers = int(servers)
        self._mean = float(mean_service_hours)

    @property
    def now_hours(self) -> float:
        """Time up to which events have been processed (hours)."""
        return self._now

    @property
    def waiting(self) -> int:
        """Items that have arrived (arrival < processed time) and not started service."""
        return sum(len(q) for q in self._queues.values())

    @property
    def pending(self) -> int:
        """Items submitted whose arrival time has not been processed yet."""
        self._merge_submitted()
        return int(self._pend_t.size)

    @property
    def busy(self) -> int:
        """Servers busy at the processed time (a service ending exactly then counts)."""
        return len(self._finish)

    def items(self) -> npt.NDArray[np.int64]:
        """Every item submitted (or created, :meth:`follow`) and not yet started: pending
        arrivals, the waiting line, created arrivals (int64, in no particular order)."""
        self._merge_submitted()
        waiting = [item for line in self._queues.values() for item, _ in line]
        created = [entry[4] for entry in self._follow]
        return np.concatenate(
            (self._pend_i, np.array(waiting, dtype=np.int64), np.array(created, dtype=np.int64))
        )

    def map_items(self, mapping: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.int64]]) -> None:
        """Replace every item not yet started by its image under ``mapping`` (applied to
        an int64 array, elementwise). Order, times and priorities stay as they are: for
        callers that renumber what their items point to (e.g. compacted records)."""
        self._merge_submitted()
        self._pend_i = np.asarray(mapping(self._pend_i), dtype=np.int64)
        for level, line in self._queues.items():
            mapped = mapping(np.array([item for item, _ in line], dtype=np.int64)).tolist()
            self._queues[level] = deque(zip(mapped, (arrival for _, arrival in line), strict=True))
        if self._follow:  # the heap's keys stay: only the items change
            created = mapping(np.array([entry[4] for entry in self._follow], dtype=np.int64))
            self._follow = [
                (*entry[:4], item)
                for entry, item in zip(self._follow, created.tolist(), strict=True)
            ]

    # -- input ------------------------------------------------------------------------

    def submit(
        self,
        arrival_hours: npt.ArrayLike,
        priority: npt.ArrayLike,
        item: npt.ArrayLike,
    ) -> None:
        """Add arrivals: times (hours, float64), priorities (int, lower first), item ids.

        Times may lie anywhere at or after the processed time :attr:`now_hours`. Raises
        ValueError on arrays of different lengths, non-finite times, times before the
        processed time, or non-integer priorities.
        """
        t = np.asarray(arrival_hours, dtype=np.float64).reshape(-1)
        p_raw = np.asarray(priority)
        i_raw = np.asarray(item)
        if not (t.size == p_raw.size == i_raw.size):
            raise ValueError(
                f"arrival_hours, priority and item must have equal lengths, "
                f"got {t.size}, {p_raw.size}, {i_raw.size}"
            )
        if t.size == 0:
            return
        if not np.isfinite(t).all():
            raise ValueError("arrival_hours must be finite (no NaN or inf)")
        earliest = float(t.min())
        if earliest < self._now:
            raise ValueError(f"arrival at {earliest} h is before the processed time {self._now} h")
        p = _as_int64(p_raw, "priority")
        i = _as_int64(i_raw, "item")
        self._submitted.append((t.copy(), p.copy(), i.copy()))

    def _merge_submitted(self) -> None:
        """Merge the submissions into the pending arrays, sorted by time; among equal
        times the earlier submission first (one stable sort of everything in submission
        order gives exactly what sorting at every submission gave)."""
        if not self._submitted:
            return
        chunks = self._submitted
        self._submitted = []
        t = np.concatenate([self._pend_t] + [c[0] for c in chunks])
        p = np.concatenate([self._pend_p] + [c[1] for c in chunks])
        i = np.concatenate([self._pend_i] + [c[2] for c in chunks])
        if t.size > 1 and (t[1:] < t[:-1]).any():
            order = np.argsort(t, kind="stable")
            t, p, i = t[order], p[order], i[order]
        self._pend_t, self._pend_p, self._pend_i = t, p, i

    # -- the loop ---------------------------------------------------------------------

    def run_until(
        self,
        t_end_hours: float,
        start_service: StartService | None = None,
        start_services: StartServices | None = None,
        follow_ons: bool = False,
    ) -> ServedBatch:
        """Process every event with time < ``t_end_hours`` (hours); return who started.

        ``start_service(item, start_hours, finish_hours)`` is called as each item starts;
        returning False drops the item without occupying a reviewer. None serves all.
        ``start_services``, if given with ``start_service``, is its vectorised form: while
        no item has to wait, a whole run of arrivals is started through one call of it
        (see :meth:`_start_unhindered`); the result is the same as one call per item.
        ``follow_ons``: the callback may create arrivals (:meth:`follow`); then, or
        while created ones wait, the run is event by event (:meth:`_run_merged`).
        Raises ValueError if ``t_end_hours`` is NaN or before the processed time. If the
        callback raises, the exception propagates and the queue must not be used again.
        """
        t_end = float(t_end_hours)
        if math.isnan(t_end) or t_end < self._now:
            raise ValueError(
                f"t_end_hours {t_end_hours!r} is before the processed time {self._now}"
            )
        if follow_ons or self._follow:
            return self._run_merged(t_end, start_service)
        cb = start_service
        self._merge_submitted()
        n = int(np.searchsorted(self._pend_t, t_end, side="left"))
        out_item: list[int] = []
        out_arr: list[float] = []
        out_start: list[float] = []
        out_fin: list[float] = []
        dropped: list[int] = []
        # Output in start order: arrays from vectorised runs, lists from the loop between.
        parts: list[tuple[npt.NDArray[Any], ...]] = []

        def flush() -> None:
            if out_item or dropped:
                parts.append(
                    (
                        np.array(out_item, dtype=np.int64),
                        np.array(out_arr, dtype=np.float64),
                        np.array(out_start, dtype=np.float64),
                        np.array(out_fin, dtype=np.float64),
                        np.array(dropped, dtype=np.int64),
                    )
                )
                for out in (out_item, out_arr, out_start, out_fin, dropped):
                    out.clear()

        pend_t, pend_p, pend_i = self._pend_t[:n], self._pend_p[:n], self._pend_i[:n]
        self._pend_t = self._pend_t[n:]
        self._pend_p = self._pend_p[n:]
        self._pend_i = self._pend_i[n:]
        vectorised = start_services is not None and cb is not None
        at: list[float] = pend_t.tolist()
        ap: list[int] = pend_p.tolist()
        ai: list[int] = pend_i.tolist()
        rec_item, rec_arr = out_item.append, out_arr.append
        rec_start, rec_fin, rec_drop = out_start.append, out_fin.append, dropped.append

        c = self._servers
        queues = self._queues
        levels = self._levels
        inf = math.inf
        i = 0
        # Where the loop may next hand back to a vectorised run (backs off while runs
        # come out short, so a congested day does not pay for many short attempts).
        next_try, backoff = 0, 64
        while True:
            if vectorised and i < n and not levels and i >= next_try:
                flush()
                assert start_services is not None  # vectorised
                started = self._start_unhindered(pend_t[i:], pend_i[i:], start_services, parts)
                i += started
                if i == n:
                    # Nothing left to arrive: services ending before t_end just end.
                    # (numpy: a day's finishes are tens of thousands; same list, order kept)
                    carried = np.asarray(self._finish, dtype=np.float64)
                    self._finish = carried[carried >= t_end].tolist()
                    heapify(self._finish)
                if started < 64:
                    next_try, backoff = i + backoff, min(2 * backoff, 1 << 16)
                else:
                    next_try, backoff = i, 64
            fh = self._finish
            svc = self._svc
            j = self._svc_pos
            nsvc = len(svc)
            ta = at[i] if i < n else inf
            handback = False
            while True:
                if fh and fh[0] < ta:
                    # A service ends (strictly before the next arrival: arrivals go first).
                    tf = fh[0]
                    if tf >= t_end:
                        break
                    heappop(fh)
                    while levels:
                        lev = levels[0]
                        q = queues[lev]
                        item, arr = q.popleft()
                        if not q:
                            heappop(levels)
                            del queues[lev]
                        if j == nsvc:
                            svc = self._new_block()
                            nsvc = len(svc)
                            j = 0
                        fin = tf + svc[j]
                        j += 1
                        if cb is None or cb(item, tf, fin):
                            heappush(fh, fin)
                            rec_item(item)
                            rec_arr(arr)
                            rec_start(tf)
                            rec_fin(fin)
                            break
                        rec_drop(item)
                    continue
                if i == n:
                    break
                if vectorised and not levels and i >= next_try:
                    handback = True  # nobody waits again: back to a vectorised run
                    break
                # An arrival at ta (< t_end: the arrivals were cut at t_end).
                if len(fh) < c:
                    # A reviewer is free, so nobody waits: it starts at once ...
                    if cb is not None and i + 1 < n and at[i + 1] == ta:
                        # ... unless others arrive at the same instant and a drop could
                        # hand its reviewer to one of them: replay that instant as SimPy.
                        self._svc, self._svc_pos = svc, j
                        i = self._tied_instant(
                            ta, at, ap, ai, i, cb, (out_item, out_arr, out_start, out_fin, dropped)
                        )
                        svc, j = self._svc, self._svc_pos
                        nsvc = len(svc)
                        ta = at[i] if i < n else inf
                        continue
                    item = ai[i]
                    if j == nsvc:
                        svc = self._new_block()
                        nsvc = len(svc)
                        j = 0
                    fin = ta + svc[j]
                    j += 1
                    if cb is None or cb(item, ta, fin):
                        heappush(fh, fin)
                        rec_item(item)
                        rec_arr(ta)
                        rec_start(ta)
                        rec_fin(fin)
                    else:
                        rec_drop(item)
                else:
                    lev = ap[i]
                    line = queues.get(lev)
                    if line is None:
                        queues[lev] = deque(((ai[i], ta),))
                        heappush(levels, lev)
                    else:
                        line.append((ai[i], ta))
                i += 1
                ta = at[i] if i < n else inf
            self._svc, self._svc_pos = svc, j
            if not handback:
                break

        self._now = t_end
        flush()
        if not parts:
            empty_i, empty_t = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
            return ServedBatch(empty_i, empty_t, empty_t, empty_t, empty_i)
        if len(parts) == 1:
            columns = parts[0]
        else:
            columns = tuple(np.concatenate(column) for column in zip(*parts, strict=True))
        return ServedBatch(
            item=columns[0],
            arrival_hours=columns[1],
            start_hours=columns[2],
            finish_hours=columns[3],
            dropped_item=columns[4],
        )

    # -- helpers ----------------------------------------------------------------------

    def _start_unhindered(
        self,
        arrival: npt.NDArray[np.float64],
        items: npt.NDArray[np.int64],
        start_services: StartServices,
        parts: list[tuple[npt.NDArray[Any], ...]],
    ) -> int:
        """Start, in one vectorised step, the longest run of the next ``arrival`` hours
        (sorted, with their ``items``) that find a free reviewer; append what it did to
        ``parts`` and return its length.

        With nobody waiting, an arrival starts at once if fewer than ``c`` services are
        under way (a service ending at that very instant still counts: arrivals go
        first). Counting every earlier item as busy until its finish, dropped ones too,
        over-counts, so where that count stays below ``c`` the event-by-event loop would
        also start each arrival on arrival, in arrival order, with the next service time
        drawn: the same starts, finishes and draws as here. The first arrival that might
        have to wait is left to the loop, with every other arrival at its instant.
        """
        n = len(arrival)
        if n == 0 or self._servers == 0:
            return 0
        service = self._take_draws(n)
        finish = arrival + service
        # Busy at arrival i: carried-over services still running (finish >= a_i), plus
        # earlier arrivals still running. Every j > i has finish_j >= a_i, so the earlier
        # ones ending before a_i are all the finishes below a_i.
        carried = np.sort(np.asarray(self._finish, dtype=np.float64))
        busy = len(carried) - np.searchsorted(carried, arrival, side="left")
        busy += np.arange(n) - np.searchsorted(np.sort(finish), arrival, side="left")
        blocked = np.flatnonzero(busy >= self._servers)
        first = int(blocked[0]) if len(blocked) else n
        if 0 < first < n:
            # Never split an instant: at one instant SimPy hands a slot freed by a drop to
            # the best waiting priority, which only the loop's tied-instant replay does.
            first = int(np.searchsorted(arrival, arrival[first], side="left"))
        self._untake_draws(n - first)
        if first == 0:
            return 0
        items = items[:first]
        begin, fin = arrival[:first], finish[:first]
        keep = np.asarray(start_services(items, begin, fin), dtype=bool)
        parts.append((items[keep], begin[keep], begin[keep], fin[keep], items[~keep]))
        # Services under way: the carried ones and the new ones, as a heap.
        self._finish.extend(fin[keep].tolist())
        heapify(self._finish)
        return first

    def _take_draws(self, count: int) -> npt.NDArray[np.float64]:
        """The next ``count`` service times (hours), in the order the loop would use them.
        New blocks are appended to the unused tail, so draws can be given back."""
        while len(self._svc) - self._svc_pos < count:
            self._svc = self._svc[self._svc_pos :] + self._new_block()
            self._svc_pos = 0
        taken = np.array(self._svc[self._svc_pos : self._svc_pos + count], dtype=np.float64)
        self._svc_pos += count
        return taken

    def _untake_draws(self, count: int) -> None:
        """Give back the last ``count`` service times taken: the loop will use them next."""
        self._svc_pos -= count

    def _new_block(self) -> list[float]:
        """Draw the next block of service times (hours)."""
        if self._sampler is None:
            block = self._rng.exponential(self._mean, SERVICE_BLOCK)
        else:
            block = np.asarray(self._sampler(SERVICE_BLOCK), dtype=np.float64).reshape(-1)
            if block.size == 0 or not (np.isfinite(block).all() and (block >= 0).all()):
                raise ValueError("service_sampler must return finite, non-negative times")
        out: list[float] = block.tolist()
        return out

    def _draw(self) -> float:
        """The next service time (hours)."""
        if self._svc_pos == len(self._svc):
            self._svc = self._new_block()
            self._svc_pos = 0
        s = self._svc[self._svc_pos]
        self._svc_pos += 1
        return s

    def _enqueue(self, priority: int, entry: _Entry) -> None:
        q = self._queues.get(priority)
        if q is None:
            self._queues[priority] = deque((entry,))
            heappush(self._levels, priority)
        else:
            q.append(entry)

    def _dequeue(self) -> _Entry:
        lev = self._levels[0]
        q = self._queues[lev]
        entry = q.popleft()
        if not q:
            heappop(self._levels)
            del self._queues[lev]
        return entry

    def _tied_instant(
        self,
        t: float,
        at: list[float],
        ap: list[int],
        ai: list[int],
        i: int,
        cb: StartService,
        out: _Served,
    ) -> int:
        """Process every event at instant ``t`` (hours) in SimPy's order; return next ``i``.

        SimPy at one instant: each arrival requests (granted at once if a slot is free);
        only afterwards, in FIFO order, do the granted processes resume (the callback
        runs; a drop releases) and does each release hand its slot to the head of the
        line. Services ending at ``t`` are left to the main loop: once the arrivals are
        in, the line only shrinks from its head and draws follow grants, so when their
        slots are handed over does not change who starts or which draw each one gets.
        """
        out_item, out_arr, out_start, out_fin, dropped = out
        c = self._servers
        fh = self._finish
        users = len(fh)  # SimPy's ``len(resource.users)``: in service or granted
        fifo: deque[_Entry | None] = deque()  # granted (item, arrival), or None: a release
        n = len(at)
        while i < n and at[i] == t:
            self._enqueue(ap[i], (ai[i], t))
            if users < c:
                fifo.append(self._dequeue())
                users += 1
            i += 1

        def start(item: int, arrival: float, begin: float) -> bool:
            return self._start_service(item, arrival, begin, cb, out)

        self._resume_granted(fifo, users, t, start)
        return i

    def _start_service(
        self, item: int, arrival: float, begin: float, cb: StartService | None, out: _Served
    ) -> bool:
        """``item`` (arrived at ``arrival``) is granted a reviewer at ``begin`` (hours) and
        takes the next service time; ``cb`` may refuse it (a drop: recorded in ``out``'s
        last list, no reviewer held). Returns whether it started."""
        out_item, out_arr, out_start, out_fin, dropped = out
        fin = begin + self._draw()
        if cb is None or cb(item, begin, fin):
            heappush(self._finish, fin)
            out_item.append(item)
            out_arr.append(arrival)
            out_start.append(begin)
            out_fin.append(fin)
            return True
        dropped.append(item)
        return False

    def _resume_granted(
        self,
        fifo: deque[_Entry | None],
        users: int,
        t: float,
        start: Callable[[int, float, float], bool],
    ) -> None:
        """SimPy at instant ``t`` (hours), once its arrivals have requested: the granted
        processes resume in FIFO order (``start(item, arrival, t)``: True if the item
        takes its reviewer), and a refused one (a drop) releases its slot, which goes to
        the head of the line behind those already granted. ``users`` counts the slots in
        service or granted."""
        c = self._servers
        while fifo:
            ev = fifo.popleft()
            if ev is None:
                if users < c and self._levels:
                    fifo.append(self._dequeue())
                    users += 1
                continue
            if not start(ev[0], ev[1], t):
                users -= 1
                fifo.append(None)


def erlang_c_mean_wait_hours(
    arrival_rate_per_hour: float, mean_service_hours: float, servers: int
) -> float:
    """Mean wait in line (hours) of an M/M/c queue, by the Erlang C formula.

    ``arrival_rate_per_hour`` (lambda, per hour), ``mean_service_hours`` (1/mu, hours),
    ``servers`` (c). Raises ValueError unless the offered load lambda/mu is below c.
    """
    lam = float(arrival_rate_per_hour)
    mean = float(mean_service_hours)
    if not (math.isfinite(lam) and lam >= 0):
        raise ValueError(f"arrival_rate_per_hour must be finite and >= 0, got {lam!r}")
    if not (math.isfinite(mean) and mean > 0):
        raise ValueError(f"mean_service_hours must be finite and > 0, got {mean!r}")
    if isinstance(servers, bool) or int(servers) != servers or servers < 1:
        raise ValueError(f"servers must be a positive integer, got {servers!r}")
    c = int(servers)
    load = lam * mean  # offered load in Erlangs
    if load >= c:
        raise ValueError(f"unstable queue: load {load:g} Erlang >= {c} servers")
    if load == 0:
        return 0.0
    erlang_b = 1.0  # Erlang B by its stable recursion: B(k) = a B(k-1) / (k + a B(k-1))
    for k in range(1, c + 1):
        erlang_b = load * erlang_b / (k + load * erlang_b)
    rho = load / c
    p_wait = erlang_b / (1.0 - rho * (1.0 - erlang_b))  # Erlang C
    return p_wait * mean / (c - load)


def erlang_c_wait_beyond(
    arrival_rate_per_hour: float, mean_service_hours: float, servers: int, hours: float
) -> float:
    """``P(W_q > hours)`` in an M/M/c queue: the chance an item waits in line longer than
    ``hours`` before a reviewer starts on it, ``C(c, a) · exp(−(c/m − λ) · hours)``
    (Erlang C: ``C`` the chance of waiting at all; the wait of those who wait is
    exponential with rate ``c/m − λ``). Same arguments and errors as
    :func:`erlang_c_mean_wait_hours`."""
    mean_wait = erlang_c_mean_wait_hours(arrival_rate_per_hour, mean_service_hours, servers)
    if mean_wait == 0.0:
        return 0.0
    drain = servers / float(mean_service_hours) - float(arrival_rate_per_hour)
    p_wait = mean_wait * drain  # mean wait = C / (c/m − λ)
    return float(p_wait * math.exp(-drain * max(0.0, float(hours))))


def _as_int64(values: npt.NDArray[Any], name: str) -> npt.NDArray[np.int64]:
    """``values`` as a flat int64 array; ValueError unless every value is an integer."""
    flat = values.reshape(-1)
    if flat.dtype.kind in "iub":
        return flat.astype(np.int64)
    if flat.dtype.kind == "f":
        if not np.isfinite(flat).all() or (flat != np.round(flat)).any():
            raise ValueError(f"{name} must hold integers")
        return flat.astype(np.int64)
    raise ValueError(f"{name} must hold integers, got dtype {flat.dtype}")
