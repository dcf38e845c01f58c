"""A run's progress bar: the days done, and a time estimate only from days that compiled
nothing.

On a machine's first run numba compiles the engine's kernels: before the run when
:func:`simulator.engine.warmup.compile_ahead` can, else during the first days. A rate measured
over a day that compiled is off by orders of magnitude (a year's run once estimated nine
hours after its first day). So the bar shows the elapsed time always, "compiling
kernels" while numba compiles, and a rate and the time left only from the days that
compiled nothing (none yet: no estimate).
"""

from __future__ import annotations

import time
from typing import Any

from numba.core import event

#: The bar's note while numba compiles.
COMPILING = "compiling kernels (first run on this machine, once)"
#: tqdm's bar without its own rate and time left (they would count compiling days).
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"


def estimate(days_left: int, clean_days: int, clean_seconds: float) -> str:
    """The bar's note from the days that compiled nothing: their rate and the time the
    ``days_left`` would take at it; empty before there is such a day."""
    if clean_days <= 0 or clean_seconds <= 0.0:
        return ""
    per_day = clean_seconds / clean_days
    left = days_left * per_day
    minutes, seconds = divmod(round(left), 60)
    hours, minutes = divmod(minutes, 60)
    clock = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"
    return f"{1.0 / per_day:.3g} day/s, {clock} left"


class DayProgress:
    """The bar of a run of ``total`` days: :meth:`start_day` and :meth:`end_day` around
    each day, :meth:`close` at the end (also after an error). While it is open, numba's
    compile events are watched: a day during which anything compiled is not timed, and
    the bar says "compiling kernels" while a compile is under way."""

    def __init__(self, total: int, desc: str, file: Any = None) -> None:
        from tqdm.auto import tqdm

        self.total = total
        self.done = 0
        self.clean_days = 0  #: days that compiled nothing
        self.clean_seconds = 0.0  #: their wall seconds
        self.compiles = 0  #: numba compiles seen (outermost ones)
        self._depth = 0
        self._day_started = 0.0
        self._compiles_at_start = 0
        self.bar = tqdm(
            total=total,
            desc=desc,
            unit="day",
            leave=False,
            bar_format=BAR_FORMAT,
            file=file,
        )
        self._listener = _CompileListener(self)
        event.register("numba:compile", self._listener)
        self._open = True

    @property
    def note(self) -> str:
        """What the bar shows after the elapsed time."""
        return str(self.bar.postfix or "")

    def compile_started(self) -> None:
        self._depth += 1
        if self._depth == 1:
            self.compiles += 1
            self.bar.set_postfix_str(COMPILING, refresh=True)

    def compile_ended(self) -> None:
        self._depth = max(self._depth - 1, 0)

    def start_day(self) -> None:
        self._compiles_at_start = self.compiles
        self._day_started = time.perf_counter()

    def end_day(self) -> None:
        seconds = time.perf_counter() - self._day_started
        if self.compiles == self._compiles_at_start:
            self.clean_days += 1
            self.clean_seconds += seconds
        self.done += 1
        self.bar.set_postfix_str(
            estimate(self.total - self.done, self.clean_days, self.clean_seconds),
            refresh=False,
        )
        self.bar.update(1)

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        event.unregister("numba:compile", self._listener)
        self.bar.close()


class _CompileListener(event.Listener):
    """Tells a :class:`DayProgress` when numba starts and ends a compile."""

    def __init__(self, progress: DayProgress) -> None:
        self.progress = progress

    def on_start(self, ev: Any) -> None:
        self.progress.compile_started()

    def on_end(self, ev: Any) -> None:
        self.progress.compile_ended()
