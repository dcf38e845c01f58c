"""The phases of Daymude, Axelrod & Forrest (2025; docs/references.md B2) from censim's
own speech choice: compliant, partly self-censoring, fully self-censoring and defiant
users over an authority's tolerance, severity and surveillance (docs/model.md S3).

A synthetic population, drawn as a scenario draws its users (stance and boldness Beta
distributions, ``value = beta_i * D_i``), each intends one call to act; the engine's
compiled choice (:func:`simulator.kernels.choice.choose_posts`) decides each, with the
truth as the perception (truth mode) and the detention cost ``c_det ln(1 + D / d0)`` as
the severity. Tolerance is which kinds the law punishes (none; calls to act and
unlawful posts; criticism too), surveillance the probability ``nu`` that the author of a
punishable post that reaches the authority is identified (the scenario's
``police.identify_anonymous_probability``), and the probability of punishment ``nu * a``
for a post of intensity ``a`` (a more intense post is more likely to reach it). B2's
``nu + (1 - nu) a`` is 1 for a call to act of intensity 1 whatever ``nu``, so it would
show no surveillance axis here; its closed forms are checked in
tests/test_users_statement.py instead.

:func:`simulated_phase_figure` draws the same phases from simulated runs instead (the
grid of :func:`simulator.experiments.phases.phase_grid`, ``censim phases``): every
sensitive decision of every run, by phase and by its author's stance and boldness
quintile (docs/metrics.md "phases.csv").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from numpy.typing import NDArray

from simulator.experiments.phases import PhaseResults
from simulator.kernels import choice as uk
from simulator.model import speech as um
from simulator.model.scenario import Scenario
from simulator.plots.style import HATCHES, new_figure, style, title

#: Tolerance levels: the kinds the law punishes, and B2's tolerance tau they stand for.
TOLERANCES: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("tau = 1 (nothing punished)", ()),
    ("tau = 0.4 (calls to act punished)", (2, 3)),
    ("tau = 0 (criticism punished too)", (1, 2, 3)),
)
SURVEILLANCES = (0.01, 0.05, 0.25)
#: Severity axis: days of detention (the cost is ``c_det ln(1 + D / d0)``).
DETENTION_DAYS = (0.25, 1.0, 3.0, 7.0, 15.0, 30.0, 90.0, 365.0)
PHASE_COLOURS = ("#009E73", "#E69F00", "#D55E00", "#0072B2")


@dataclass(frozen=True)
class SpeechSettings:
    """The speech parameters the phases depend on (a scenario's ``[population.speech]``)."""

    intensity: tuple[float, float, float, float] = (0.0, 0.4, 1.0, 0.7)
    desire_stance_exponent: float = 1.0
    choice_noise: float = 0.3
    detention_cost: float = 20.0
    detention_scale_days: float = 7.0
    stance: tuple[float, float] = (2.0, 2.0)
    boldness: tuple[float, float] = (2.0, 5.0)

    @classmethod
    def of(cls, scenario: Scenario) -> SpeechSettings:
        """The settings of ``scenario``'s population."""
        population = scenario.population
        speech = population.speech
        return cls(
            intensity=speech.intensity.as_tuple(),
            desire_stance_exponent=speech.desire_stance_exponent,
            choice_noise=speech.choice_noise,
            detention_cost=speech.detention_cost,
            detention_scale_days=speech.detention_scale_days,
            stance=(population.stance.alpha, population.stance.beta),
            boldness=(population.boldness.alpha, population.boldness.beta),
        )


def synthetic_values(
    settings: SpeechSettings, users: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Desire ``D_i``, boldness ``beta_i`` (each rescaled to mean 1), ``value = beta D`` and
    each post's noise uniform, for ``users`` users drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    a, b = settings.stance
    desire = (rng.beta(a, b, users) / (a / (a + b))) ** settings.desire_stance_exponent
    a, b = settings.boldness
    bold = rng.beta(a, b, users) / (a / (a + b))
    return desire, bold, desire * bold, rng.random(users)


def phases(
    settings: SpeechSettings,
    punished: tuple[int, ...],
    surveillance: float,
    detention_days: float,
    value: NDArray[np.float64],
    noise: NDArray[np.float64],
) -> NDArray[np.int64]:
    """Each user's phase (:data:`simulator.model.speech.COMPLIANT` ...) for one call to act
    under a law punishing ``punished`` kinds by detention."""
    n = len(value)
    law = np.zeros((4, 2))
    truth = np.zeros((1, 4, 2))
    intensity = np.array(settings.intensity, dtype=float)
    for kind in punished:
        law[kind, um.DETENTION] = 1.0
        truth[0, kind, um.DETENTION] = surveillance * intensity[kind]
    par = np.zeros(uk.N_PAR)
    par[uk.PAR_DETENTION_COST] = float(
        um.detention_cost(detention_days, settings.detention_cost, settings.detention_scale_days)
    )
    par[uk.PAR_NOISE] = settings.choice_noise
    par[uk.PAR_IOTA_ANONYMOUS] = par[uk.PAR_IOTA_TRACEABLE] = 1.0
    inputs = uk.SpeechInputs(
        np.stack([law, law]), intensity, np.array(um.SOFTER_KIND), np.zeros(n, dtype=np.int16),
        np.array([1 << 30]), np.zeros((1, 2)), np.zeros(n, dtype=bool), uk.decay_table(30.0, 1),
        np.zeros((2, 4)), np.zeros((3, 4)), par, truth,
    )  # fmt: skip
    out = uk.choose_posts(
        np.arange(n, dtype=np.int64), np.zeros(n),
        um.choice_noise(noise, settings.choice_noise), value.astype(np.float32),
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int16), 1, 2, 0, inputs, uk.empty_beliefs(), 0,
    )  # fmt: skip
    choice = np.full(n, um.WITHHOLD)
    choice[out[5]] = um.POST
    choice[out[8]] = um.SOFTEN
    return um.phase(choice, np.full(n, 2 in punished))


def phase_shares(
    settings: SpeechSettings = SpeechSettings(), users: int = 20_000, seed: int = 2025
) -> NDArray[np.float64]:
    """Share of users in each phase: tolerance x surveillance x detention days x 4."""
    _, _, value, noise = synthetic_values(settings, users, seed)
    out = np.zeros((len(TOLERANCES), len(SURVEILLANCES), len(DETENTION_DAYS), 4))
    for t, (_, punished) in enumerate(TOLERANCES):
        for s, nu in enumerate(SURVEILLANCES):
            for d, days in enumerate(DETENTION_DAYS):
                counts = np.bincount(
                    phases(settings, punished, nu, days, value, noise), minlength=4
                )
                out[t, s, d] = counts / users
    return out


def defiance_by_desire_and_boldness(
    settings: SpeechSettings = SpeechSettings(),
    surveillance: float = 0.05,
    detention_days: float = 7.0,
    users: int = 200_000,
    seed: int = 2025,
    bins: int = 10,
) -> NDArray[np.float64]:
    """Defiant share by desire decile (rows) x boldness decile (columns) where calls to
    act are punished."""
    desire, bold, value, noise = synthetic_values(settings, users, seed)
    defiant = phases(settings, (2, 3), surveillance, detention_days, value, noise) == um.DEFIANT
    row = np.minimum((np.argsort(np.argsort(desire)) * bins) // users, bins - 1)
    col = np.minimum((np.argsort(np.argsort(bold)) * bins) // users, bins - 1)
    cell = row * bins + col
    hits = np.bincount(cell, weights=defiant, minlength=bins * bins)
    size = np.bincount(cell, minlength=bins * bins)
    return (hits / np.maximum(size, 1)).reshape(bins, bins)


def _stacked_phases(ax: Any, x: NDArray[Any], by_phase: NDArray[Any], gid: str) -> None:
    """One panel's bars: the share of each phase (rows of ``by_phase``, in
    :data:`simulator.model.speech.PHASE_LABELS` order) stacked at each ``x``, on 0-100%."""
    bottom = np.zeros(len(x))
    for phase_index, name in enumerate(um.PHASE_LABELS):
        values = by_phase[phase_index]
        ax.bar(
            x, values, bottom=bottom, color=PHASE_COLOURS[phase_index],
            hatch=HATCHES[phase_index], edgecolor="white", width=0.9, label=name,
            gid=f"{gid}-{name}",
        )  # fmt: skip
        bottom += values
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(axis="x", visible=False)


def _phase_spread(ax: Any, x: NDArray[Any], rows: Any, gid: str) -> None:
    """The replications' spread on the stacked bars (issue 18 item 5): the bootstrap
    interval of the compliant share at the top of its segment (the bottom one) and of
    the defiant share at the bottom of its segment (the top one: its edge is 1 minus
    the defiant share), as vertical lines. Nothing where the table has no interval (one
    replication)."""
    if "compliant_boot_low" not in rows:
        return
    edges = (
        ("compliant", rows["compliant_mean"], rows["compliant_boot_low"],
         rows["compliant_boot_high"]),
        ("defiant", 1.0 - rows["defiant_mean"], 1.0 - rows["defiant_boot_high"],
         1.0 - rows["defiant_boot_low"]),
    )  # fmt: skip
    for name, edge, low, high in edges:
        edge, low, high = (np.asarray(v, dtype=float) for v in (edge, low, high))
        shown = np.isfinite(low) & np.isfinite(high)
        if not shown.any():
            continue
        ax.vlines(
            x[shown], low[shown], high[shown], colors="black", linewidth=0.8,
            gid=f"{gid}-{name}",
        )  # fmt: skip


def _defiance_map(ax: Any, grid: NDArray[Any], fontsize: float) -> Any:
    """The defiant share by desire (rows) x boldness (columns), each cell labelled; returns
    the image for its colour bar."""
    # viridis: lightness rises with the value, so the map reads in greyscale too.
    image = ax.imshow(grid, origin="lower", cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for (row, col), value in np.ndenumerate(grid):
        ax.text(col, row, f"{value:.0%}", ha="center", va="center", fontsize=fontsize,
                color="black" if value > 0.5 else "white")  # fmt: skip
    ticks = np.arange(grid.shape[0])
    ax.set_xticks(ticks, [str(i + 1) for i in ticks])
    ax.set_yticks(ticks, [str(i + 1) for i in ticks])
    ax.grid(False)
    return image


def phase_figure(
    settings: SpeechSettings = SpeechSettings(),
    users: int = 20_000,
    scenario: str = "default speech settings",
    grid_users: int = 200_000,
) -> Figure:
    """The phase figure: one panel per tolerance x surveillance with stacked phase shares
    against detention days, and the defiant share by desire x boldness decile (of
    ``grid_users`` users: a hundred cells need more than the panels).

    In the house style (:mod:`simulator.plots.style`): the title names the unit (share of
    users, 0 to 1), ``scenario`` (whose speech settings these are) and the population x
    horizon (each user decides one call to act: one day).
    """
    shares = phase_shares(settings, users)
    grid = defiance_by_desire_and_boldness(settings, users=grid_users)
    with style():
        fig = new_figure(12, 9.5)
        fig.suptitle(
            title("Speech phases (B2)", "% of users; one call to act each",
                  scenario, users, 1)
        )  # fmt: skip
        panels: Any = fig.subfigures(2, 1, height_ratios=(3, 1.4))
        axes = panels[0].subplots(len(TOLERANCES), len(SURVEILLANCES), sharex=True, sharey=True)
        x = np.arange(len(DETENTION_DAYS))
        for t, (label, _) in enumerate(TOLERANCES):
            for s, nu in enumerate(SURVEILLANCES):
                ax = axes[t, s]
                _stacked_phases(ax, x, shares[t, s].T, f"phase-{t}-{s}")
                ax.set_title(f"{label}, surveillance {nu:g}", fontsize=9)
                ax.set_xticks(x, [f"{d:g}" for d in DETENTION_DAYS], fontsize=8)
                if s == 0:
                    ax.set_ylabel("share of users (%)")
                if t == len(TOLERANCES) - 1:
                    ax.set_xlabel("detention days (severity c ln(1 + D / d0))")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        panels[0].legend(handles, labels, loc="outside upper center", ncols=4)
        ax = panels[1].subplots(1, 1)
        image = _defiance_map(ax, grid, fontsize=6)
        ax.set_xlabel("boldness decile (1 = least bold)")
        ax.set_ylabel("desire decile\n(1 = least desire)")
        ax.set_title(
            f"Defiant share by desire x boldness (% of the cell's users; {grid_users:,} users, "
            "calls to act punished, surveillance 0.05, 7 days)",
            fontsize=9,
        )
        panels[1].colorbar(image, ax=ax, label="defiant share (0 to 1)")
    return fig


def heat_point(results: PhaseResults) -> int:
    """The grid point whose defiance is drawn by desire and boldness: the one whose mean
    defiant share is nearest one half (the first such), where it varies most."""
    share = results.table["defiant_mean"].to_numpy(dtype=float)
    return int(np.nanargmin(np.abs(share - 0.5)))


def simulated_phase_figure(results: PhaseResults) -> Figure:
    """The phase figure from simulated runs (:func:`simulator.experiments.phases.phase_grid`):
    one panel per tolerance (open, or a vagueness) x surveillance with the stacked shares of the
    sensitive decisions in each phase over severity (detention days), replication means;
    below, the defiant share by stance (desire) x boldness quintile at :func:`heat_point`,
    replications pooled."""
    table = results.table
    tolerances = list(dict.fromkeys(table["tolerance"]))
    surveillance = sorted(table["surveillance"].unique())
    days = sorted(table["detention_days"].unique())
    point = heat_point(results)
    cells = results.cells[point]
    total = cells.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        grid = cells[:, :, um.DEFIANT] / total
    chosen = table.iloc[point]
    reps = int(table["replications"].max())
    unit = f"% of sensitive decisions; mean of {reps} replication"
    unit += "s" if reps > 1 else ""
    if reps > 1:
        unit += "; bars: 95% bootstrap intervals of the compliant and defiant shares"
    with style():
        fig = new_figure(4.0 * len(surveillance) + 2.0, 2.4 * len(tolerances) + 4.0)
        fig.suptitle(
            title("Speech phases from simulated runs (B2)",
                  unit,
                  results.scenario, results.users, results.days)
        )  # fmt: skip
        panels: Any = fig.subfigures(2, 1, height_ratios=(2.4 * len(tolerances), 3.0))
        axes = panels[0].subplots(
            len(tolerances), len(surveillance), sharex=True, sharey=True, squeeze=False
        )
        x = np.arange(len(days))
        for t, tolerance in enumerate(tolerances):
            for s, nu in enumerate(surveillance):
                ax = axes[t, s]
                rows = table[(table["tolerance"] == tolerance) & (table["surveillance"] == nu)]
                rows = rows.set_index("detention_days").reindex(days)
                columns = [
                    name.replace(" ", "_").replace("-", "_") + "_mean" for name in um.PHASE_LABELS
                ]
                by_phase = np.nan_to_num(rows[columns].to_numpy(dtype=float)).T
                _stacked_phases(ax, x, by_phase, f"phase-{t}-{s}")
                _phase_spread(ax, x, rows, f"spread-{t}-{s}")
                ax.set_title(f"{tolerance}, surveillance x{nu:g}", fontsize=9)
                ax.set_xticks(x, [f"{d:g}" for d in days], fontsize=8)
                if s == 0:
                    ax.set_ylabel("share of decisions (%)")
                if t == len(tolerances) - 1:
                    ax.set_xlabel("detention days (police.detention_days)")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        panels[0].legend(handles, labels, loc="outside upper center", ncols=4)
        ax = panels[1].subplots(1, 1)
        image = _defiance_map(ax, grid, fontsize=7)
        ax.set_xlabel("boldness quintile (1 = least bold)")
        ax.set_ylabel("stance (desire) quintile\n(1 = least desire)")
        ax.set_title(
            f"Defiant share by desire x boldness (% of the cell's decisions; "
            f"{int(total.sum()):,} decisions, {chosen['tolerance']}, "
            f"{chosen['detention_days']:g} days, surveillance x{chosen['surveillance']:g})",
            fontsize=9,
        )
        panels[1].colorbar(image, ax=ax, label="defiant share (0 to 1)")
    return fig
