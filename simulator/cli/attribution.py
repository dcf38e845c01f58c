"""``censim attribute``: a thin layer over :mod:`simulator.experiments.attribution` and
:mod:`simulator.plots.attribution` (docs/experiments.md, "Attribution")."""

from __future__ import annotations

import math
from pathlib import Path

import click

from simulator.cli.experiments import _run_options, _scenario_with_fixed
from simulator.errors import OutputError
from simulator.experiments.designs import SweepError
from simulator.output.folders import shown

#: The metrics printed by default (every metric is in attribution.csv).
HEADLINE = (
    "speech_loss",
    "chilling_effect",
    "political_speech_lost",
    "lawful_takedown_rate",
    "detentions_total",
)


def _number(value: float, share: bool) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{100 * value:+.2f}%" if share else f"{value:+,.4g}"


def _interval(low: float, high: float, share: bool) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f"[{_number(low, share)}, {_number(high, share)}]"


@click.command("attribute", context_settings={"default_map": {"reps": 4}})
@click.argument("scenario")
@click.option(
    "--rules",
    metavar="RULE,RULE,...",
    help="Rules to attribute to (default: every rule on in the scenario): real_name, "
    "takedown, reporting, appeals, timeline. Rules not named stay as the scenario has them.",
)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    metavar="METRIC",
    help="Metric to print (repeatable; default: the headline metrics); the first is drawn "
    "in waterfall.png. Every metric is in attribution.csv.",
)
@_run_options
def attribute_command(
    scenario: str,
    rules: str | None,
    metrics: tuple[str, ...],
    fixed: tuple[str, ...],
    days: int | None,
    users: int | None,
    reps: int,
    seed: int | None,
    workers: int | None,
    scheduler: str | None,
    out_dir: Path,
    force: bool,
    quiet: bool,
    yes: bool,
) -> None:
    """Split each metric's effect among SCENARIO's rules (exact Shapley values).

    Runs every combination of the rules on and off (2**n), REPS times on the same seeds,
    into a resumable store; writes attribution.csv, attribution_long.csv and
    waterfall.png there.

    \b
    Example:
      censim attribute classroom --reps 4 --out attribution/classroom
    """
    from simulator.experiments.attribution import attribute
    from simulator.experiments.intervals import is_share
    from simulator.plots.attribution import waterfall
    from simulator.plots.writing import save

    loaded = _scenario_with_fixed(scenario, fixed, days, users)
    chosen = [r.strip() for r in rules.split(",") if r.strip()] if rules is not None else None
    result = attribute(
        loaded,
        rules=chosen,
        reps=reps,
        seed=seed,
        workers=workers,
        scheduler=scheduler or None,
        out=out_dir,
        force=force,
        progress=not quiet,
        check_resources=not yes,
    )
    shown_metrics = list(metrics) or [m for m in HEADLINE if m in result.metrics]
    unknown = [m for m in shown_metrics if m not in result.metrics]
    if unknown:
        raise SweepError(
            f"--metric: {unknown[0]!r} has no attribution (not a metric, or undefined in "
            "some combination of the rules); allowed: " + ", ".join(result.metrics)
        )
    try:
        save(waterfall(result, shown_metrics[0]), out_dir / "waterfall.png")
    except OSError as error:
        raise OutputError(
            f"{shown(out_dir / 'waterfall.png')}: cannot write ({error.strerror})"
        ) from None
    runs = result.sweep.ran + result.sweep.reused if result.sweep else 0
    wrote = (
        f"wrote {shown(out_dir)}/ (attribution.csv, attribution_long.csv, waterfall.png, "
        f"long.csv, runs/): {runs} runs"
        + (f", {result.sweep.ran} run now, {result.sweep.reused} reused" if result.sweep else "")
    )
    if quiet:
        click.echo(wrote)
        return
    click.echo(
        f"{result.scenario} ({result.users:,} users x {result.horizon_days} days): "
        f"{len(result.rules)} rules ({', '.join(result.rules)}), "
        f"{2 ** len(result.rules)} combinations x {result.reps} replications"
    )
    for metric in shown_metrics:
        share = is_share(metric)
        click.echo(f"\n{metric}: mean [95% t-interval] (bootstrap [95%]; replications' range)")
        for _, row in result.rows(metric).iterrows():
            every = "+".join(result.rules)
            if row["part"] == "level" and row["term"] not in ("none", every):
                continue
            name = {
                "level": "no rules" if row["term"] == "none" else "all rules",
                "total": "effect (all rules minus no rules)",
                "shapley": f"  {row['term']} (Shapley)",
                "alone": f"  {row['term']} alone",
                "interaction": f"  {row['term'].replace('+', ' x ')} (interaction)",
            }[row["part"]]
            click.echo(
                f"  {name:<48} {_number(row['mean'], share):>10} "
                f"{_interval(row['t_low'], row['t_high'], share)}"
                f" ({_interval(row['boot_low'], row['boot_high'], share)}; "
                f"{_interval(row['min'], row['max'], share)})"
            )
    click.echo(f"\n{wrote}")


__all__ = ["attribute_command"]
