"""Attribution (issue 18 item 3): which rule does what. A scenario's rules are switched
on and off in all ``2**n`` combinations on common random numbers, and every metric's
effect (all rules on minus all off) is split among the rules by exact Shapley values,
with the interactions as Harsanyi dividends (docs/experiments.md, "Attribution";
docs/metrics.md, "Attribution: each rule's share").

For rules ``N`` and a metric, ``v(S)`` is the metric of the run with the rules of ``S``
on and the others off (every run paired with the same no-rules counterfactual, on the
same seed). The Harsanyi dividend of a set ``T`` is the part of the effect only the
rules of ``T`` together produce (Harsanyi 1963; Shapley 1953: docs/references.md)::

    d(T) = sum over S subset of T of (-1)**(|T| - |S|) * v(S)

so ``d({i}) = v({i}) - v({})`` (rule ``i`` alone) and ``d({i, j}) = v({i, j}) - v({i})
- v({j}) + v({})`` (what ``i`` and ``j`` do together beyond their separate effects).
Rule ``i``'s Shapley value shares each dividend equally among the rules it needs::

    phi_i = sum over T containing i of d(T) / |T|
          = sum over S not containing i of |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S))

Shapley values add up to the total effect ``v(N) - v({})`` exactly (efficiency), a
rule that changes nothing gets 0 (null player) and two rules that are interchangeable
get the same (symmetry): ``tests/test_attribution.py``.

Replication ``r`` of every combination uses the same seed (common random numbers, as a
sweep's points do), so the values are computed per replication and their spread gives
the intervals: the Student-t 95% interval of the mean, the percentile bootstrap one
(:func:`~simulator.experiments.intervals.bootstrap_interval`), and the 2.5% and 97.5%
quantiles of the replications themselves (a rare big event makes the runs a mixture,
which the t-interval hides). Intervals are clipped to what the number can be
(:func:`~simulator.experiments.intervals.metric_domain`). The runs go through a sweep
(:func:`simulator.experiments.sweep`): its executors (local workers, a Dask cluster), its
resumable store, its byte-identical tables on any number of workers.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.experiments.designs import Design, SweepError
from simulator.experiments.executors import Executor, Model, ScenarioModel
from simulator.experiments.intervals import describe, effect_domain, metric_domain
from simulator.experiments.store import atomic_csv
from simulator.experiments.sweeps import SweepResults, resolve_scenario, sweep
from simulator.model.scenario import Scenario, validate_scenario

#: The rules a scenario can switch off, in the order they are listed: the switches the
#: no-rules counterfactual turns off (:meth:`Scenario.without_rules`), and the timeline.
#: Penalties, the regulator and the police are not rules of their own here: they enforce
#: the takedown and reporting duties and have no off switch (the counterfactual keeps
#: them, idle).
RULES = ("real_name", "takedown", "reporting", "appeals", "timeline")

#: What switching each rule off means.
RULE_OFF = {
    "real_name": "rules.real_name.enabled = false (and no timeline entry sets it)",
    "takedown": "rules.takedown.enabled = false",
    "reporting": 'rules.reporting.mode = "none" (and no timeline entry sets it)',
    "appeals": "rules.appeals.enabled = false",
    "timeline": "no timeline entries",
}

#: Most rules attributed at once (2**5 = 32 combinations).
MAX_RULES = len(RULES)

#: Parts of the attribution table (``part`` column).
PARTS = ("level", "total", "shapley", "alone", "interaction")


# -- which rules, and a scenario with some of them off ---------------------------------


def rules_of(scenario: Scenario) -> tuple[str, ...]:
    """The rules ``scenario`` has on (in :data:`RULES` order): real names when enabled
    (or a timeline entry turns them on), takedown and appeals when enabled, reporting
    when its mode (or a timeline entry's) is not ``"none"``, the timeline when an entry
    changes anything."""
    rules = scenario.rules
    timeline_modes = [entry.set.get("rules.reporting.mode", "none") for entry in scenario.timeline]
    timeline_real_names = [
        entry.set.get("rules.real_name.enabled", False) for entry in scenario.timeline
    ]
    present = {
        "real_name": rules.real_name.enabled or any(timeline_real_names),
        "takedown": rules.takedown.enabled,
        "reporting": rules.reporting.mode != "none" or any(m != "none" for m in timeline_modes),
        "appeals": rules.appeals.enabled,
        "timeline": any(entry.changes_anything() for entry in scenario.timeline),
    }
    return tuple(name for name in RULES if present[name])


def with_rules(scenario: Scenario, on: Collection[str], players: Collection[str]) -> Scenario:
    """``scenario`` with the rules of ``players`` not in ``on`` switched off (as
    :data:`RULE_OFF` says); every other field, and the rules that are not players, as
    they are. With every player on it is ``scenario``; with none on and every rule of
    :func:`rules_of` a player, it is the no-rules counterfactual."""
    data = scenario.to_dict()
    off = set(players) - set(on)
    rules = data["rules"]
    for name in ("real_name", "takedown", "appeals"):
        if name in off:
            rules[name]["enabled"] = False
    if "real_name" in off:
        for entry in data.get("timeline", []):
            entry["set"].pop("rules.real_name.enabled", None)
    if "reporting" in off:
        rules["reporting"]["mode"] = "none"
        for entry in data.get("timeline", []):
            entry["set"].pop("rules.reporting.mode", None)
    if "timeline" in off:
        data.pop("timeline", None)
    return validate_scenario(data, source=f"scenario {scenario.name}")


def check_rules(scenario: Scenario, rules: Sequence[str] | None) -> tuple[str, ...]:
    """The players: ``rules`` (checked: known, on in the scenario, no repeats), in
    :data:`RULES` order, else every rule :func:`rules_of` finds."""
    present = rules_of(scenario)
    if rules is None:
        chosen = present
    else:
        if not rules:
            raise SweepError(f"--rules: name at least one rule; allowed: {', '.join(RULES)}")
        unknown = [r for r in rules if r not in RULES]
        if unknown:
            raise SweepError(f"--rules: unknown rule {unknown[0]!r}; allowed: {', '.join(RULES)}")
        if len(set(rules)) != len(rules):
            raise SweepError("--rules: a rule is named twice")
        absent = [r for r in rules if r not in present]
        if absent:
            raise SweepError(
                f"--rules: {absent[0]!r} is off in scenario {scenario.name} (it has on: "
                f"{', '.join(present) or 'no rule'}); a rule that is off has nothing to attribute"
            )
        chosen = tuple(r for r in RULES if r in rules)
    if not chosen:
        raise SweepError(
            f"scenario {scenario.name} has no rule on ({', '.join(RULES)}): nothing to attribute"
        )
    return chosen


class RulesModel(ScenarioModel):
    """A scenario as a model of its rules: a point says which of ``players`` are on
    (``{rule: bool}``) and is run, paired with the counterfactual, as a sweep's point."""

    def __init__(self, scenario: Scenario, players: Sequence[str]) -> None:
        super().__init__(scenario)
        self.players = tuple(players)

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "kind": "attribution", "rules": list(self.players)}

    def scenario(self, values: Mapping[str, Any], source: str = "<point>") -> Scenario:
        base = validate_scenario(self.data, source=f"scenario {self.name}")
        return with_rules(base, [p for p in self.players if values.get(p)], self.players)

    def prepare(self, design: Design) -> Design:
        for point in design.points:
            if set(point) != set(self.players) or not all(
                isinstance(v, bool) for v in point.values()
            ):
                raise SweepError(
                    f"{design.source}: a point must switch each of {', '.join(self.players)} "
                    f"on or off (true/false), got {point}"
                )
            self.scenario(point)  # every combination must be a valid scenario
        return design


def coalition_design(players: Sequence[str]) -> Design:
    """Every combination of ``players`` on and off: point ``p`` has player ``i`` on when
    bit ``i`` of ``p`` is set (point 0: all off; the last: all on)."""
    n = len(players)
    points = tuple(
        {name: bool(mask >> i & 1) for i, name in enumerate(players)} for mask in range(2**n)
    )
    return Design("attribution", tuple(players), points, {"rules": list(players)}, "attribute")


def coalition_label(players: Sequence[str], mask: int) -> str:
    """``"none"``, or the rules on joined by ``+`` (``"takedown+reporting"``)."""
    on = [name for i, name in enumerate(players) if mask >> i & 1]
    return "+".join(on) if on else "none"


# -- the game theory --------------------------------------------------------------------


def harsanyi_dividends(values: np.ndarray) -> np.ndarray:
    """The Harsanyi dividends of a game given by ``values[..., mask]`` = ``v(S)`` for
    every coalition ``S`` (bit ``i`` of ``mask``: player ``i`` in ``S``; the last axis
    has ``2**n`` entries): the Moebius transform, ``d(T) = sum_{S subset T} (-1)**(|T|-|S|)
    v(S)``. ``d[..., 0]`` is ``v({})``."""
    dividends = np.array(values, dtype=float, copy=True)
    size = dividends.shape[-1]
    n = size.bit_length() - 1
    if size != 2**n:
        raise ValueError(f"a game of n players has 2**n coalition values, got {size}")
    for i in range(n):
        bit = 1 << i
        for mask in range(size):
            if mask & bit:
                dividends[..., mask] -= dividends[..., mask ^ bit]
    return dividends


def shapley_values(values: np.ndarray) -> np.ndarray:
    """Exact Shapley values of every player of the game ``values[..., mask]``
    (as :func:`harsanyi_dividends`): ``phi_i = sum_{T contains i} d(T) / |T|``. They add up
    to ``v(N) - v({})``. Shape: ``values.shape[:-1] + (n,)``."""
    dividends = harsanyi_dividends(values)
    size = dividends.shape[-1]
    n = size.bit_length() - 1
    phi = np.zeros((*dividends.shape[:-1], n))
    for mask in range(1, size):
        members = [i for i in range(n) if mask >> i & 1]
        for i in members:
            phi[..., i] += dividends[..., mask] / len(members)
    return phi


# -- the study --------------------------------------------------------------------------

#: Columns of :attr:`Attribution.table` (``attribution.csv``).
TABLE_COLUMNS = (
    "metric", "part", "term", "replications", "mean", "t_low", "t_high",
    "boot_low", "boot_high", "q_low", "q_high", "min", "max",
)  # fmt: skip


@dataclass
class Attribution:
    """A finished attribution.

    ``table`` (``attribution.csv``): one row per metric x part x term, ``part`` one of
    :data:`PARTS`: ``level`` (``v(S)`` of each combination, term its label), ``total``
    (``v(N) - v({})``, term ``all``), ``shapley`` (each rule's share of the total),
    ``alone`` (a rule alone: ``v({i}) - v({})``), ``interaction`` (the Harsanyi
    dividend of two rules or more, term ``a+b``); with the mean over replications and
    its intervals (:func:`describe`). ``per_replication`` (``attribution_long.csv``):
    metric, part, term, replication, seed, value."""

    scenario: str
    rules: tuple[str, ...]
    reps: int
    users: int
    horizon_days: int
    table: pd.DataFrame
    per_replication: pd.DataFrame
    sweep: SweepResults | None = None

    @property
    def metrics(self) -> list[str]:
        return list(dict.fromkeys(self.table["metric"]))

    def rows(self, metric: str, part: str | None = None) -> pd.DataFrame:
        chosen = self.table[self.table["metric"] == metric]
        if part is not None:
            chosen = chosen[chosen["part"] == part]
        return chosen.reset_index(drop=True)

    def value(self, metric: str, part: str, term: str) -> float:
        """The mean of one row (NaN if there is none)."""
        chosen = self.table[
            (self.table["metric"] == metric)
            & (self.table["part"] == part)
            & (self.table["term"] == term)
        ]
        return float(chosen["mean"].iloc[0]) if len(chosen) else math.nan

    def shapley(self, metric: str) -> dict[str, float]:
        """Each rule's mean Shapley value for ``metric``."""
        return {rule: self.value(metric, "shapley", rule) for rule in self.rules}

    @classmethod
    def from_sweep(cls, results: SweepResults) -> Attribution:
        """The attribution of a finished attribution store (:func:`attribute`'s sweep)."""
        manifest = results.manifest
        spec = manifest.get("design", {}).get("spec", {})
        if manifest.get("design", {}).get("kind") != "attribution" or "rules" not in spec:
            raise SweepError(f"{results.out}: not an attribution store (made by `censim sweep`?)")
        players = tuple(spec["rules"])
        scenario = manifest.get("model", {}).get("scenario", {})
        table, long = attribution_tables(results.long, players)
        return cls(
            scenario=str(manifest.get("model", {}).get("name", "model")),
            rules=players,
            reps=int(manifest.get("reps", 0)),
            users=int(scenario.get("population", {}).get("users", 0)),
            horizon_days=int(scenario.get("horizon_days", 0)),
            table=table,
            per_replication=long,
            sweep=results,
        )

    @classmethod
    def read(cls, out: str | Path) -> Attribution:
        """Load a finished attribution folder."""
        return cls.from_sweep(SweepResults.read(out))


def coalition_values(long: pd.DataFrame, players: Sequence[str]) -> dict[str, np.ndarray]:
    """Per metric, ``v[replication, mask]`` from a sweep's long table over
    :func:`coalition_design` (NaN where a run has no value)."""
    size = 2 ** len(players)
    reps = int(long["replication"].max()) + 1 if len(long) else 0
    out: dict[str, np.ndarray] = {}
    for metric, frame in long.groupby("metric", sort=False):
        grid = np.full((reps, size), np.nan)
        grid[frame["replication"].to_numpy(int), frame["point"].to_numpy(int)] = frame[
            "value"
        ].to_numpy(float)
        out[str(metric)] = grid
    return out


def attribution_tables(
    long: pd.DataFrame, players: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``attribution.csv`` and ``attribution_long.csv`` from a sweep's long table, in a
    fixed order (metric as in ``long``, then part, then term), so the bytes never depend
    on which worker finished first. A metric undefined in some combination of a
    replication (``removed_within_24h`` where nothing is removed) has no Shapley values
    in that replication; a metric with none in any is left out."""
    n = len(players)
    size = 2**n
    seeds = (
        long.drop_duplicates("replication").set_index("replication")["seed"].to_dict()
        if len(long)
        else {}
    )
    rows: list[dict[str, Any]] = []
    per_rep: list[dict[str, Any]] = []
    for metric, values in sorted(coalition_values(long, players).items()):
        if not np.isfinite(values).all(axis=1).any():
            continue
        dividends = harsanyi_dividends(values)
        phi = shapley_values(values)
        parts: list[tuple[str, str, np.ndarray, tuple[float, float]]] = []
        for mask in range(size):
            parts.append(
                ("level", coalition_label(players, mask), values[:, mask], metric_domain(metric))
            )
        parts.append(("total", "all", values[:, -1] - values[:, 0], effect_domain(metric)))
        for i, name in enumerate(players):
            parts.append(("shapley", name, phi[:, i], effect_domain(metric)))
        for i, name in enumerate(players):
            parts.append(("alone", name, dividends[:, 1 << i], effect_domain(metric)))
        for mask in range(size):
            if bin(mask).count("1") >= 2:
                label = coalition_label(players, mask)
                parts.append(("interaction", label, dividends[:, mask], (-math.inf, math.inf)))
        for part, term, series, domain in parts:
            rows.append({"metric": metric, "part": part, "term": term, **describe(series, domain)})
            for replication, value in enumerate(series):
                per_rep.append(
                    {
                        "metric": metric,
                        "part": part,
                        "term": term,
                        "replication": replication,
                        "seed": seeds.get(replication),
                        "value": value,
                    }
                )
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    long_out = pd.DataFrame(
        per_rep, columns=["metric", "part", "term", "replication", "seed", "value"]
    )
    return table, long_out


def attribute(
    scenario: Scenario | str | Path | None,
    *,
    rules: Sequence[str] | None = None,
    reps: int = 4,
    seed: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path,
    force: bool = False,
    progress: bool = False,
    model: Model | None = None,
    executor: Executor | None = None,
    check_resources: bool = True,
) -> Attribution:
    """Split every metric's effect among ``scenario``'s rules by Shapley values.

    Runs each of the ``2**n`` combinations of the rules (``rules``, default every rule
    :func:`rules_of` finds on; any other rule stays as the scenario has it) ``reps``
    times on the same seeds, through :func:`simulator.experiments.sweep` (``workers``,
    ``scheduler``, ``executor``, ``out``, ``force``, resuming as a sweep does), and
    writes ``attribution.csv`` and ``attribution_long.csv`` into ``out``. ``model``
    replaces the scenario by any :class:`~simulator.experiments.executors.Model` whose
    points are ``{rule: bool}`` (``rules`` then names its players): the tests use one.
    """
    if model is None:
        if scenario is None:
            raise SweepError("attribute: give a scenario or a model")
        loaded = resolve_scenario(scenario)
        players = check_rules(loaded, rules)
        model = RulesModel(loaded, players)
        seed = loaded.seed if seed is None else seed
        users, days = loaded.population.users, loaded.horizon_days
    else:
        if not rules:
            raise SweepError("attribute: with a model, name its rules")
        players = tuple(rules)
        users = days = 0
    if len(players) > MAX_RULES:
        raise SweepError(f"--rules: at most {MAX_RULES} rules at once (2**n combinations)")
    results = sweep(
        None,
        coalition_design(players),
        reps=reps,
        seed=seed,
        workers=workers,
        scheduler=scheduler,
        out=out,
        force=force,
        progress=progress,
        model=model,
        executor=executor,
        extra_manifest={"attribution": {"rules": list(players)}},
        check_resources=check_resources,
    )
    table, long = attribution_tables(results.long, players)
    atomic_csv(table, results.out / "attribution.csv")
    atomic_csv(long, results.out / "attribution_long.csv")
    name = getattr(model, "name", "model")
    return Attribution(str(name), players, reps, users, days, table, long, results)
