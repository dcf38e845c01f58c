"""What a job will need, estimated before any work, against what this machine has.

A scenario of 50 million users at mean degree 200, or of 5,000 platforms over 100 years,
validates: every field is in range. Run, it would take ~100 GB of memory or write
~180 GB of tables, and fail hours later (or take the machine down with it). So
``censim run``, ``sweep``, ``sensitivity`` and ``compare`` estimate the memory, disk
and number of runs first (:func:`run_needs`, :func:`sweep_needs`, :func:`compare_needs`),
compare them with the memory available and the free space where the output goes
(:func:`check`), and refuse with the numbers (:class:`ResourceError`, exit code 4)
unless ``--yes``.

The formulas, in bytes (``users``, ``degree`` the mean degree, ``days``, ``P`` platforms,
``cells = days x (P + 1)``: a day of each platform and of ``circumvention``):

- memory of one paired run, in one process:
  ``BASE_BYTES + users x (USER_BYTES + EDGE_END_BYTES x degree) + cells x CELL_BYTES``,
  plus ``users x COUNTERFACTUAL_USER_BYTES + cells x CELL_BYTES / 2`` when the
  counterfactual runs in a second process (``simulator.engine.pairing`` does that from
  ``PARALLEL_MIN_USER_DAYS`` user-days on);
- plus, for runs of ``PILOT_MIN_USER_DAYS`` user-days or more, what a pilot run of the
  same scenario measures per user, times ``PILOT_MARGIN``: the review items waiting in the
  platforms' queues (``queue_waiting`` at each day's end, its peak: :func:`waiting_items`),
  ``WAITING_ITEM_BYTES`` each; and every event, held until the end, ``EVENT_BYTES`` each.
  A short pilot (``PILOT_USERS`` users, ``PILOT_DAYS`` days) first; then, where what comes
  later may differ (:func:`needs_whole_pilot`: a platform with fixed staff, a change of
  rules after the short pilot's days, or queues not drained at its end), a pilot of every
  day of the run up to ``PILOT_MAX_DAYS`` with fewer users (:func:`pilot_size`: at most
  ``PILOT_USERS``, a tenth of the run's, ``PILOT_USER_DAYS`` in all, at least
  ``PILOT_MIN_USERS``): it meets every timeline entry of those days (an entry after
  ten years is not seen). A platform choosing its staff (model.md S6a) catches up within
  weeks; one with fixed staff that falls behind falls further behind ever faster (its
  strictness and flags rise with what it misses: china_csl_2016 at 0.2 fixed reviewers
  per 100,000, 20,000 users, review items arriving 0.0035 a user-day over days 0-9, 0.16
  over days 110-119), which neither a month's pilot nor the starting staff's shortfall
  times the days foresees; nor does a month's pilot see a timeline entry after it.
  Beyond the pilot's days the count at its end grows as over the short pilot's last week
  (drained: about 0), or at the fastest rate a week of the whole pilot's second half saw.
  The pilot is one run, at the run's seed: a fixed-staff queue near its capacity may tip
  in one seed and not in another (whether it does is chance), so such a platform
  (:func:`near_capacity`) is named in a warning with what it would hold if every item
  waited; the pilot costs up to 7.3 M user-days (up to three quarters of a run of
  10 M user-days of 2,000-2,700 users over ten years: 8-23 s, measured);
- disk of one run folder:
  ``FOLDER_BYTES + P x PLATFORM_BYTES + cells x 8 x 2 x DAILY_ROW_BYTES``
  (``daily.csv`` and ``counterfactual_daily.csv``: a row per cell, channel (2) and kind
  (4)) ``+ days x P x PLATFORM_ROW_BYTES + days x POPULATION_ROW_BYTES``, plus the pilot's
  events a user-day ``x EVENT_ROW_BYTES`` (``events.csv``; not counted without a pilot);
- a sweep: the largest point's run in each of ``workers`` processes at once, plus this
  process; on disk ``runs x (RECORD_BYTES + METRIC_ROW_BYTES x metrics)`` (run records
  and ``long.csv``); ``compare``: the largest run, plus every run's tables kept in memory
  and written (about its folder's size each).

Where the numbers come from (this project's machine): the network is built from two
int32 arrays of edge ends and fills an int32 array of neighbours (8 bytes per user and
unit of degree at its peak: ``simulator.population.SocialNetwork.random``; 1,676 B/user
measured at degree 200); per-user state and the rest of the run come to ~150 B/user
(docs/performance.md: 229 B/user peak RSS over a year of 1M users at degree 10 = 150 +
8 x 10; 149-191 B/user measured at 300,000-1,000,000 users); ``BASE_BYTES`` is the
resident size of a process that has run once (imports and compiled kernels, 230 MB); a
cell costs ~5 kB (the recorders' counts, the day's tables in memory: 4.5-5.0 kB
measured at 100 and 300 platforms); a review item waiting 500-660 B of peak resident
memory (china_csl_2016 at 300,000 users, its platforms' transient backlog at day 20,
1.14 items a user, 227 MB more than a 3-day run; and with no reviewers, 40 days; its
post record, its queue entries, the store's room for the records made meanwhile and the
compactions' temporaries; 160-170 B before the post store and queue of 2026-12-03); the
row sizes are those of ``classroom`` run folders and
sweep stores. ``tests/test_resources.py`` checks estimates against measured runs
(within a factor of 2).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import CensimError, warn
from simulator.model.scenario import Scenario

GB = 1e9

#: Resident size of a censim process that has run once: Python, numpy, pandas, numba
#: and the compiled kernels (230 MB measured).
BASE_BYTES = 250_000_000
#: Per user, besides the network: state arrays, day caches, post records, events.
USER_BYTES = 150
#: Per user and unit of mean degree, at the network build's peak (3 int32 per edge end).
EDGE_END_BYTES = 8
#: Per day of each platform (and of circumvention): counts, series and tables in memory.
CELL_BYTES = 5_000
#: Per user, in the second process that runs the counterfactual of a large run.
COUNTERFACTUAL_USER_BYTES = 100
#: Per review item waiting at the peak (its record, its queue entries, the store's room
#: and the compactions' temporaries): 148 B of peak resident memory an item measured in
#: session 21 (china_csl_2016 without reviewers, 300,000 users, 10 and 40 days: 47,000
#: and 714,000 items waiting, 128 and 227 MB; 500-660 B before session 19's narrower
#: store and lines, docs/performance.md).
WAITING_ITEM_BYTES = 160
#: Per event held until the tables are written (single events are objects).
EVENT_BYTES = 200
#: One row of events.csv (73 B measured).
EVENT_ROW_BYTES = 75
#: Runs of at least this many user-days get a pilot run (:func:`pilot_rates`) that
#: measures how many review items wait per user and how many events a user-day makes:
#: below it those terms are small on any machine.
PILOT_MIN_USER_DAYS = 10_000_000
#: The short pilot: this many users (at most the run's) for this many days (1-2 s).
PILOT_USERS = 20_000
PILOT_DAYS = 30
#: The whole pilot's users: at most PILOT_USERS and a tenth of the run's, at most
#: PILOT_USER_DAYS over its days, at least PILOT_MIN_USERS (the items waiting a user vary
#: little with size: china_csl_2016's first-month peak 1.00 at 5,000 users, 1.10 at
#: 20,000, 1.18 at 100,000, 1.14 at 300,000); its days the run's, up to PILOT_MAX_DAYS.
#: 10,000 users for a year take 2-10 s (china_csl_2016, this project's machine).
PILOT_MIN_USERS = 2_000
PILOT_USER_DAYS = 20_000 * 365
PILOT_MAX_DAYS = 3_650
#: The short pilot's queues count as drained when the items waiting at its end are at
#: most this share of its peak, or at most PILOT_DRAINED_PER_USER a user.
PILOT_DRAINED_SHARE = 0.1
PILOT_DRAINED_PER_USER = 0.01
#: The pilot's rates times this (the variation with size above, and a replication's).
PILOT_MARGIN = 1.5
#: A fixed-staff platform whose reviewers work this share of their capacity or more over
#: a week of the pilot is near capacity: its queue may tip in the run (a warning names it).
#: china_weibo_2012, which tips in 2 of 10 replications, works at 0.81-1.01 (by seed and
#: size); germany_netzdg_2017 at 0.59, eu_dsa_2024 0.35, classroom 0.27-0.28.
PILOT_NEAR_CAPACITY = 0.75
#: Days over which the items waiting are seen to grow (beyond the pilot's days).
PILOT_TREND_DAYS = 7
#: A run folder's fixed files (summary, scenario, manifest, delays) without platforms.
FOLDER_BYTES = 30_000
#: Per platform in scenario.json and summary.json.
PLATFORM_BYTES = 1_500
#: One row of daily.csv or counterfactual_daily.csv (63 B measured).
DAILY_ROW_BYTES = 64
#: One row of platform_daily.csv (58 B measured).
PLATFORM_ROW_BYTES = 60
#: One row of population_daily.csv (55-75 B measured).
POPULATION_ROW_BYTES = 75
#: One run record of a sweep (runs/*.json: 2.3 kB measured for a scenario).
RECORD_BYTES = 2_500
#: One row of long.csv (~50 B measured, more with many varied fields).
METRIC_ROW_BYTES = 60
#: Metrics a scenario run reports (the rows of long.csv per run).
SCENARIO_METRICS = 70


class ResourceError(CensimError):
    """A job this machine does not have the memory or the disk for (exit code 4, as
    running out of memory during a run)."""

    exit_code = 4


@dataclass(frozen=True)
class Needs:
    """What a job needs: ``memory`` (bytes at its peak, all its processes), ``disk``
    (bytes written), ``runs`` (paired runs); ``note`` says what dominates, if useful."""

    memory: int
    disk: int
    runs: int = 1
    note: str = ""


@dataclass(frozen=True)
class Rates:
    """Per user, from a pilot run (:func:`pilot_rates`), times ``PILOT_MARGIN``: rows of
    events.csv a user-day (``events``), review items waiting at the end of the pilot's
    fullest day (``waiting_peak``) and of its last (``waiting_end``), and the fastest
    they grew a day over a week near its end (``waiting_growth``, at least 0: the short
    pilot's last week, the whole pilot's second half), over ``pilot_days`` days."""

    events: float = 0.0
    waiting_peak: float = 0.0
    waiting_end: float = 0.0
    waiting_growth: float = 0.0
    pilot_days: int = 0
    #: Platforms with fixed staff whose reviewers worked at PILOT_NEAR_CAPACITY or more of
    #: their capacity over a week of the pilot: (name, that share, review items arriving a
    #: user-day then, times the margin). Such a queue may fall behind in a run where it
    #: did not in the pilot (one seed: whether it tips is chance, the review of session 18).
    near_capacity: tuple[tuple[str, float, float], ...] = ()


def pilot_size(scenario: Scenario) -> tuple[int, int]:
    """The whole pilot's users and days for ``scenario`` (see PILOT_MIN_USERS)."""
    users = scenario.population.users
    days = min(scenario.horizon_days, PILOT_MAX_DAYS)
    pilot_users = min(PILOT_USERS, users // 10, PILOT_USER_DAYS // max(1, days))
    return min(users, max(PILOT_MIN_USERS, pilot_users)), days


def last_change_day(scenario: Scenario) -> int:
    """The last day on which the scenario's rules change: its timeline's entries (and
    their ends) and the real-name rule's start (0 if nothing changes)."""
    days = [0]
    for entry in scenario.timeline:
        days.append(entry.day + (entry.days or 0))
    if scenario.rules.real_name.enabled:
        days.append(scenario.rules.real_name.start_day)
    return min(max(days), scenario.horizon_days)


def needs_whole_pilot(scenario: Scenario, short: Rates) -> bool:
    """Whether the short pilot (``short``, unscaled by the run's days) may not foresee
    the run: a platform with users and fixed staff (its queue may fall behind ever
    faster), a change of rules after the short pilot's days, or queues not drained at
    its end."""
    if scenario.horizon_days <= short.pilot_days:
        return False
    fixed = bool(_fixed_staff(scenario))
    drained = short.waiting_end <= PILOT_MARGIN * PILOT_DRAINED_PER_USER or (
        short.waiting_end <= PILOT_DRAINED_SHARE * short.waiting_peak
    )
    return fixed or last_change_day(scenario) >= short.pilot_days or not drained


def pilot_rates(scenario: Scenario, seed: int | None = None) -> Rates:
    """The scenario's rates measured on the short pilot (PILOT_USERS users, PILOT_DAYS
    days), or, where it may not foresee the run (:func:`needs_whole_pilot`), on a
    pilot of every day (:func:`pilot_size`), at the run's ``seed`` (default the
    scenario's); nothing is kept."""
    seed = scenario.seed if seed is None else seed
    users = min(scenario.population.users, PILOT_USERS)
    days = min(scenario.horizon_days, PILOT_DAYS)
    short = _pilot(scenario, seed, users, days, growth_days=PILOT_TREND_DAYS + 1)
    if not needs_whole_pilot(scenario, short):
        return short
    users, days = pilot_size(scenario)
    return _pilot(scenario, seed, users, days, growth_days=days - days // 2)


def _pilot(scenario: Scenario, seed: int, users: int, days: int, growth_days: int) -> Rates:
    """A pilot run of ``users`` for ``days``: its rates, its growth the fastest of a week
    within its last ``growth_days`` days (a drained short pilot: its last week; a whole
    pilot: its second half)."""
    from simulator.engine.pairing import run
    from simulator.model.scenario import override

    small = override(
        scenario, {"population.users": users, "horizon_days": days}, source="pilot run"
    )
    results = run(small, seed=seed)
    daily = results.platform_daily
    queues = daily.groupby("day")["queue_waiting"].sum()
    waiting = queues.reindex(range(days), fill_value=0).to_numpy(dtype=float) / users
    return Rates(
        events=PILOT_MARGIN * len(results.events) / max(1, users * days),
        waiting_peak=PILOT_MARGIN * float(waiting.max()),
        waiting_end=PILOT_MARGIN * float(waiting[-1]),
        waiting_growth=PILOT_MARGIN * fastest_growth(waiting[-growth_days:]),
        pilot_days=days,
        near_capacity=near_capacity(small, daily),
    )


def near_capacity(scenario: Scenario, daily: Any) -> tuple[tuple[str, float, float], ...]:
    """The fixed-staff platforms of a pilot run of ``scenario`` (its ``platform_daily``)
    whose reviewers worked PILOT_NEAR_CAPACITY of their capacity or more over a week
    (``staff x 24 x 60 / review_minutes`` reviews a day, model.md S6): each with that
    share and the review items arriving a user-day that week (reviews done plus the
    queue's growth), times PILOT_MARGIN."""
    from simulator.model.platforms import review_staff

    found = []
    users = scenario.population.users
    for platform in _fixed_staff(scenario):
        staff = review_staff(scenario, platform)
        if staff <= 0.0:
            continue
        rows = daily[daily.platform == platform.name]
        capacity = staff * 24 * 60 / platform.review_minutes
        reviews = rows.reviews.to_numpy(dtype=float)
        arriving = reviews + np.diff(rows.queue_waiting.to_numpy(dtype=float), prepend=0.0)
        span = min(PILOT_TREND_DAYS, len(reviews))
        if span == 0:
            continue
        week = np.ones(span) / span
        worked = float(np.max(np.convolve(reviews, week, mode="valid"))) / capacity
        if worked >= PILOT_NEAR_CAPACITY:
            arrivals = float(np.max(np.convolve(arriving, week, mode="valid"))) / users
            found.append((platform.name, worked, PILOT_MARGIN * arrivals))
    return tuple(found)


def _fixed_staff(scenario: Scenario) -> list[Any]:
    """The scenario's platforms with users whose staff is fixed (not chosen, S6a)."""
    from simulator.model.platforms import CHOSEN_STAFF  # heavy (scipy): when piloting

    return [
        platform
        for platform in scenario.platforms
        if platform.staffing != CHOSEN_STAFF and platform.market_share > 0.0
    ]


def fastest_growth(waiting: np.ndarray, span: int = PILOT_TREND_DAYS) -> float:
    """The fastest growth a day (at least 0) of ``waiting`` (a count each day) over any
    ``span`` consecutive days, or over all of them if fewer."""
    span = min(span, len(waiting) - 1)
    if span <= 0:
        return 0.0
    return max(0.0, float(np.max(waiting[span:] - waiting[:-span])) / span)


def waiting_items(scenario: Scenario, rates: Rates) -> float:
    """Review items waiting at once, at most, over the run: per user the pilot's peak,
    or, for the days beyond the pilot's, its last day's count growing at the pilot's
    ``waiting_growth`` (a queue that falls further behind each day keeps every item, in
    memory, to the end), times the run's users."""
    beyond = max(0, scenario.horizon_days - rates.pilot_days)
    per_user = max(rates.waiting_peak, rates.waiting_end + rates.waiting_growth * beyond)
    return scenario.population.users * per_user


def run_memory(scenario: Scenario, rates: Rates | None = None, *, in_worker: bool = False) -> int:
    """Peak memory (bytes) of one paired run of ``scenario`` (see the module's formula);
    with ``rates`` the posts waiting for review and the events are counted too.
    ``in_worker``: in a sweep's worker, where the counterfactual stays in the process."""
    from simulator.engine.pairing import PARALLEL_MIN_USER_DAYS

    users, days = scenario.population.users, scenario.horizon_days
    cells = days * (len(scenario.platforms) + 1)
    memory = (
        BASE_BYTES
        + users * (USER_BYTES + EDGE_END_BYTES * scenario.population.mean_degree)
        + cells * CELL_BYTES
    )
    if not in_worker and users * days >= PARALLEL_MIN_USER_DAYS:
        memory += users * COUNTERFACTUAL_USER_BYTES + cells * CELL_BYTES // 2
    if rates is not None:
        memory += waiting_items(scenario, rates) * WAITING_ITEM_BYTES
        memory += users * days * rates.events * EVENT_BYTES
    return int(memory)


def run_disk(scenario: Scenario, rates: Rates | None = None) -> int:
    """Bytes of a run folder of ``scenario``; ``events.csv`` counted only with ``rates``."""
    users, days, platforms = (
        scenario.population.users,
        scenario.horizon_days,
        len(scenario.platforms),
    )
    cells = days * (platforms + 1)
    events = users * days * rates.events * EVENT_ROW_BYTES if rates is not None else 0.0
    return int(
        FOLDER_BYTES
        + platforms * PLATFORM_BYTES
        + cells * 8 * 2 * DAILY_ROW_BYTES
        + days * platforms * PLATFORM_ROW_BYTES
        + days * POPULATION_ROW_BYTES
        + events
    )


def run_needs(scenario: Scenario, rates: Rates | None = None) -> Needs:
    """What ``censim run`` of ``scenario`` needs (with ``rates``: the pilot's terms too)."""
    note = ""
    if rates is not None:
        items = waiting_items(scenario, rates)
        if items >= 1:
            note = (
                f"~{_gb(items * WAITING_ITEM_BYTES)} of it for posts waiting for review: "
                f"up to ~{items:,.0f} at once, as many a user as a pilot run's queues held"
            )
    return Needs(memory=run_memory(scenario, rates), disk=run_disk(scenario, rates), note=note)


def check_run(
    scenario: Scenario, out: Path, what: str = "this run", seed: int | None = None
) -> None:
    """Refuse (:class:`ResourceError`) a run of ``scenario`` into ``out`` this machine
    has not the memory or disk for: first on the sizes alone, then, for a run of
    PILOT_MIN_USER_DAYS user-days or more, with a pilot run's rates (at the run's
    ``seed``); and warn of a fixed-staff queue near capacity (:func:`near_capacity`),
    which the estimate cannot foresee tipping."""
    smaller = "fewer users, a smaller mean_degree, fewer days or platforms"
    check(run_needs(scenario), out, what, smaller)
    if scenario.population.users * scenario.horizon_days >= PILOT_MIN_USER_DAYS:
        rates = pilot_rates(scenario, seed)
        check(run_needs(scenario, rates), out, what, smaller + " (or more reviewers)")
        for name, worked, arrivals in rates.near_capacity:
            held = scenario.population.users * arrivals * scenario.horizon_days
            warn(
                f"platform {name}'s reviewers worked at {worked:.0%} of their capacity in "
                f"a pilot run; in {what} its queue may fall behind (whether it does is "
                f"chance), which the estimate leaves out: up to ~{_gb(held * WAITING_ITEM_BYTES)} "
                "more if every review item waited to the end (more reviewers avoid it)"
            )


def compare_needs(scenarios: Sequence[Scenario], reps: int) -> Needs:
    """What ``censim compare`` needs: each scenario run ``reps`` times, one at a time,
    every run kept in memory for the table (about its folder's size) and written."""
    folders = [run_disk(s) * reps for s in scenarios]
    largest = max((run_memory(s) for s in scenarios), default=BASE_BYTES)
    return Needs(
        memory=int(largest + sum(folders)), disk=int(sum(folders)), runs=len(scenarios) * reps
    )


def sweep_needs(
    scenarios: Iterable[Scenario], runs: int, workers: int, metrics: int = SCENARIO_METRICS
) -> Needs:
    """What a sweep of ``runs`` runs needs: the largest of ``scenarios`` (its points)
    running in ``workers`` processes at once (0: in this process), and its store.
    (Posts waiting for review are not counted: they depend on each point.)"""
    largest = max((run_memory(s, in_worker=True) for s in scenarios), default=BASE_BYTES)
    at_once = max(1, min(workers, runs))
    memory = largest if workers == 0 else BASE_BYTES + at_once * largest
    disk = runs * (RECORD_BYTES + metrics * METRIC_ROW_BYTES)
    return Needs(memory=int(memory), disk=int(disk), runs=runs)


# -- what the machine has -----------------------------------------------------------------


def available_memory() -> int | None:
    """Bytes of memory this process could use now: the kernel's ``MemAvailable``, or
    less if a cgroup (a container, a systemd slice) limits it; None if unknown."""
    found: list[int] = []
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    limit = _cgroup_room()
    if limit is not None:
        found.append(limit)
    return min(found) if found else None


def _cgroup_room() -> int | None:
    """Room left under this process's cgroup v2 memory limit, if it has one."""
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as cgroup:
            lines = cgroup.read().splitlines()
        relative = next(line.split("::", 1)[1] for line in lines if line.startswith("0::"))
        folder = Path("/sys/fs/cgroup") / relative.lstrip("/")
        limit = (folder / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((folder / "memory.current").read_text()))
    except (OSError, ValueError, StopIteration):
        return None


def free_disk(path: Path) -> int | None:
    """Free bytes on the file system where ``path`` is (or would be created)."""
    try:
        folder = path.absolute()
        # exists() raises for a name the file system cannot hold (over 255 bytes): the
        # write that follows says so, naming the path.
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _gb(size: float) -> str:
    if size >= 0.1 * GB:
        return f"{size / GB:,.1f} GB"
    return f"{size / 1e6:,.0f} MB" if size >= 1e6 else f"{size / 1e3:,.0f} kB"


def check(needs: Needs, out: Path, what: str, smaller: str = "fewer users or days") -> None:
    """Refuse (:class:`ResourceError`) a job whose estimate exceeds the memory available
    or the free space where ``out`` goes, with both numbers; ``what`` names the job
    (``this run``, ``this sweep (1,200 runs, 2 at a time)``), ``smaller`` how to shrink it."""
    memory = available_memory()
    if memory is not None and needs.memory > memory:
        note = f" ({needs.note})" if needs.note else ""
        raise ResourceError(
            f"{what} needs ~{_gb(needs.memory)} of memory{note}, this machine has "
            f"{_gb(memory)} available; use {smaller}, or pass --yes to try anyway"
        )
    disk = free_disk(out)
    if disk is not None and needs.disk > disk:
        raise ResourceError(
            f"{what} would write ~{_gb(needs.disk)} to {out}, which has {_gb(disk)} free; "
            f"use {smaller} or another --out, or pass --yes to try anyway"
        )
