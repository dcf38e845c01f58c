"""The police's day, compiled: reports investigated through the shared multi-server
queue (:mod:`simulator.kernels.queue`), identification and detention decided as each
investigation starts (docs/model.md S3, "Police").
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from simulator.kernels.queue import (
    LEVEL_PRIORITY,
    LEVEL_ROOM,
    finish_pop,
    finish_push,
    line_pop,
    line_push,
)
from simulator.kinds import UserState

DETAINED = int(UserState.DETAINED)
Array = NDArray[Any]


@njit(cache=True, nogil=True)
def investigate_until(
    arrival: Array,
    report: Array,
    t_end: float,
    investigators: int,
    finish: Array,
    line_item: Array,
    line_arrival: Array,
    levels: Array,
    counters: Array,
    service: Array,
    uniform: Array,
    report_user: Array,
    report_kind: Array,
    state: Array,
    traceable: Array,
    identify: float,
    detention_probability: Array,
    lapse_hours: float,
) -> tuple[Array, Array, Array, Array, Array, Array]:
    """The police's day: advance their first-come-first-served line of reports to
    ``t_end`` (hours) through the new ``arrival`` times (sorted, ties in filing order)
    of reports ``report``, investigating each as an investigator takes it up.

    What :class:`simulator.model.review_queue.ReviewQueue` with one priority level does
    with the police's ``investigate`` callback (tests/test_police.py compares the two):
    an arrival takes a free investigator at once, else it waits; an investigator who
    finishes before the next arrival (arrivals first at equal times) takes up the head
    of the line; each start, or drop, uses the next ``service`` time. (With one priority
    level, SimPy's replay of arrivals at one instant starts the same reports at the same
    time with the same draws as taking them one by one.) A report about a user already
    detained, or one that waited longer than ``lapse_hours`` (``inf``: never), is
    dropped (the investigator stays free); otherwise the user is identified
    (traceable, or with probability ``identify``) and then detained with the kind's
    probability, each a draw from ``uniform``, in that order.

    The queue is the review's (:mod:`simulator.kernels.queue`), with every report at
    priority 0: state, updated in place, ``finish[:busy]`` (the finish heap), the line's
    ring (``line_*`` and ``levels``: one level, priority 0) and ``counters`` ``[busy,
    line length, entries so far, next service, next uniform]``. The caller leaves room
    for every arrival in the ring (checked), and
    a service time and two uniforms for every arrival and waiting report. Returns the
    detentions decided: finish times (hours), users, kinds; then every investigation's
    chance of ending in a detention, ``P(identified) x detention_probability[kind]``
    (1 for a traceable user's identification), with its finish time and kind: the
    expected detentions the news reports (docs/model.md S16). Computing the chances
    draws nothing, so the realized detentions are those of the same draws."""
    busy, length, seq, j, u = counters[0], counters[1], counters[2], counters[3], counters[4]
    n = len(arrival)
    if len(levels) != 1 or levels[0, LEVEL_PRIORITY] != 0 or levels[0, LEVEL_ROOM] < length + n:
        raise ValueError("investigate_until: the line's one ring has no room for the arrivals")
    out_time = np.empty(n + length, dtype=np.float64)
    out_user = np.empty(n + length, dtype=np.int64)
    out_kind = np.empty(n + length, dtype=np.int64)
    chance_time = np.empty(n + length, dtype=np.float64)
    chance_kind = np.empty(n + length, dtype=np.int64)
    chance = np.empty(n + length, dtype=np.float64)
    detained = 0
    investigated = 0
    i = 0
    while True:
        ta = arrival[i] if i < n else np.inf
        if busy > 0 and finish[0] < ta:
            tf = finish[0]
            if tf >= t_end:
                break
            finish_pop(finish, busy)
            busy -= 1
            start = tf
        elif i < n:
            # Into the line; a free investigator (the line is then empty) takes it now.
            start = ta
            line_push(line_item, line_arrival, levels, 0, report[i], ta)
            length += 1
            seq += 1
            i += 1
            if busy >= investigators:
                continue
        else:
            break
        # A free investigator at ``start`` takes up reports from the head of the line
        # until one is investigated (a dropped one leaves the investigator free).
        while length > 0:
            item, filed = line_pop(line_item, line_arrival, levels)
            length -= 1
            done = start + service[j]
            j += 1
            if start - filed > lapse_hours:
                continue  # lapsed: nobody took it up in time
            user = report_user[item]
            if state[user] == DETAINED:
                continue  # already detained: nothing to investigate
            identified = traceable[user]
            kind = report_kind[item]
            chance_time[investigated] = done
            chance_kind[investigated] = kind
            chance[investigated] = (1.0 if identified else identify) * detention_probability[kind]
            investigated += 1
            if not identified:
                identified = uniform[u] < identify
                u += 1
            if identified:
                detain = uniform[u] < detention_probability[kind]
                u += 1
                if detain:
                    out_time[detained] = done
                    out_user[detained] = user
                    out_kind[detained] = kind
                    detained += 1
            finish_push(finish, busy, done)
            busy += 1
            break
    counters[0], counters[1], counters[2], counters[3], counters[4] = busy, length, seq, j, u
    return (
        out_time[:detained],
        out_user[:detained],
        out_kind[:detained],
        chance_time[:investigated],
        chance_kind[:investigated],
        chance[:investigated],
    )
