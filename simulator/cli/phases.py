"""``censim phases``: the phases of self-censorship (B2) from simulated runs over a
regime's tolerance (vagueness), severity (detention days) and surveillance, a thin layer
over :func:`simulator.experiments.phases.phase_grid` and
:func:`simulator.plots.phase.simulated_phase_figure`."""

from __future__ import annotations

from pathlib import Path

import click

from simulator.cli.experiments import (
    _pct,
    _refuse_set_and_levers,
    _scenario_with_fixed,
    _with_interval,
    run_options,
)
from simulator.cli.frontier import _numbers
from simulator.output.folders import shown


@click.command("phases")
@click.argument("scenario")
@click.option(
    "--vagueness",
    metavar="V1,V2,...",
    help="Tolerance: rules.takedown.vagueness, 0 to 1 (default: the scenario's).",
)
@click.option(
    "--open",
    "open_level",
    is_flag=True,
    help="Add a first tolerance level with no take-down duties (nothing punished).",
)
@click.option(
    "--detention-days",
    metavar="D1,D2,...",
    help="Severity: police.detention_days (default: the scenario's).",
)
@click.option(
    "--surveillance",
    metavar="F1,F2,...",
    help="Factors on every kind's police.detention_probability, capped at 1 (default: 1).",
)
@run_options(reps=2, scheduler=False)
def phases_command(
    scenario: str,
    vagueness: str | None,
    open_level: bool,
    detention_days: str | None,
    surveillance: str | None,
    fixed: tuple[str, ...],
    reps: int,
    seed: int | None,
    days: int | None,
    users: int | None,
    workers: int | None,
    out_dir: Path,
    force: bool,
    quiet: bool,
    yes: bool,
) -> None:
    """Run SCENARIO over every combination of tolerance (vagueness), severity (detention
    days) and surveillance (REPS paired replications each, on common random numbers) and
    draw the phases of its users' sensitive decisions: compliant, partly and fully
    self-censoring, defiant, and defiance by stance and boldness quintile. Writes
    phases.csv and phases.png in OUT (beside the sweep's store).

    \b
    Example:
      censim phases china_csl_2016 --open --vagueness 0,0.6,1 --detention-days 1,15,90,365 \\
          --surveillance 1,4 --reps 2 --users 5000 --days 60 --out runs/phases
    """
    from simulator.experiments.phases import phase_grid
    from simulator.experiments.store import writing_outputs
    from simulator.plots.phase import simulated_phase_figure
    from simulator.plots.writing import save

    levers = {
        "--vagueness": r"rules\.takedown\.vagueness",
        "--detention-days": r"police\.detention_days",
    }
    given = {"--vagueness": vagueness, "--detention-days": detention_days}
    _refuse_set_and_levers(fixed, {k: v for k, v in levers.items() if given[k]})
    loaded = _scenario_with_fixed(scenario, fixed, None, None)
    result = phase_grid(
        loaded,
        vagueness=_numbers(vagueness, "--vagueness"),
        detention_days=_numbers(detention_days, "--detention-days"),
        surveillance=_numbers(surveillance, "--surveillance"),
        open_level=open_level,
        reps=reps,
        seed=seed,
        users=users,
        days=days,
        workers=workers,
        out=out_dir,
        force=force,
        progress=not quiet,
        check_resources=not yes,
    )
    with writing_outputs(result.sweep.out, ["phases.png"], result.sweep.manifest):
        save(simulated_phase_figure(result), Path(result.sweep.out) / "phases.png")
    wrote = f"wrote {shown(out_dir)}/phases.csv and phases.png (and the sweep's store)"
    if not quiet:
        headers = ["tolerance", "days", "surveillance", "compliant", "partly", "fully",
                   "defiant", "defiant q1 stance", "defiant q5 stance"]  # fmt: skip
        rows = [
            [
                str(row["tolerance"]),
                f"{row['detention_days']:g}",
                f"x{row['surveillance']:g}",
                _pct(row["compliant_mean"]),
                _pct(row["partly_self_censoring_mean"]),
                _pct(row["fully_self_censoring_mean"]),
                _with_interval(row, "defiant"),
                _pct(row["defiant_stance_q1"]),
                _pct(row["defiant_stance_q5"]),
            ]  # fmt: skip
            for row in result.table.to_dict(orient="records")
        ]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
        for line in [headers, *rows]:
            click.echo("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))
        click.echo(
            "shares of sensitive decisions, replication means; defiant with its 95% t "
            "interval [..] and bootstrap interval (..); quintiles pooled"
        )
    click.echo(wrote)
