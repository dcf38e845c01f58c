"""``censim frontier``: the policy frontier of a scenario (lawful speech lost against
unlawful exposure prevented over deadlines, review staff and fines), a thin layer over
:func:`simulator.experiments.frontier.policy_frontier` and :mod:`simulator.plots.frontier`."""

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
from simulator.experiments.designs import SweepError
from simulator.output.folders import shown


def _numbers(text: str | None, option: str) -> list[float] | None:
    """``"1,6,24"`` as numbers (None if not given); a clear error naming the option."""
    if text is None:
        return None
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SweepError(
            f"{option}: {text!r} is not a list of numbers (give e.g. 1,6,24)"
        ) from None
    if not values or any(not (v >= 0.0) or v == float("inf") for v in values):
        raise SweepError(f"{option}: {text!r} is not allowed; give numbers >= 0, e.g. 1,6,24")
    if len(set(values)) != len(values):
        raise SweepError(f"{option}: {text!r} repeats a value; give each value once")
    return values


@click.command("frontier")
@click.argument("scenario")
@click.option(
    "--deadline-hours",
    metavar="H1,H2,...",
    help="Take-down deadlines (rules.takedown.deadline_hours, and notice_deadline_hours "
    "where the scenario has notice duties).",
)
@click.option(
    "--reviewers",
    metavar="R1,R2,...",
    help="Every platform's reviewers_per_100k_users (default: the scenario's).",
)
@click.option("--fines", metavar="F1,F2,...", help="Factors on every fine of the ladder.")
@run_options(reps=3, scheduler=False)
def frontier_command(
    scenario: str,
    deadline_hours: str | None,
    reviewers: str | None,
    fines: str | None,
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
    """Sweep take-down deadlines, review staff and fines on SCENARIO (every combination,
    REPS paired replications each on common random numbers) and write the policy
    frontier: frontier.csv and frontier.png in OUT (beside the sweep's store).

    \b
    Example:
      censim frontier germany_netzdg_2017 --deadline-hours 1,24,168 \\
          --reviewers 0.5,2,5,20 --reps 3 --users 10000 --days 60 --out runs/frontier
    """
    from simulator.experiments.frontier import policy_frontier
    from simulator.experiments.store import writing_outputs
    from simulator.plots.frontier import frontier_figure
    from simulator.plots.writing import save

    levers = {
        "--deadline-hours": r"rules\.takedown\.(notice_)?deadline_hours",
        "--reviewers": r"platforms\.[^.]+\.reviewers_per_100k_users",
    }
    given = {"--deadline-hours": deadline_hours, "--reviewers": reviewers}
    _refuse_set_and_levers(fixed, {k: v for k, v in levers.items() if given[k]})
    loaded = _scenario_with_fixed(scenario, fixed, None, None)
    result = policy_frontier(
        loaded,
        deadline_hours=_numbers(deadline_hours, "--deadline-hours"),
        reviewers=_numbers(reviewers, "--reviewers"),
        fines=_numbers(fines, "--fines"),
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
    with writing_outputs(result.sweep.out, ["frontier.png"], result.sweep.manifest):
        save(frontier_figure(result), Path(result.sweep.out) / "frontier.png")
    wrote = f"wrote {shown(out_dir)}/frontier.csv and frontier.png (and the sweep's store)"
    if not quiet:
        table = result.table
        headers = ["deadline h", "reviewers/100k", "fines x", "lawful speech lost",
                   "unlawful exposure prevented", "within 1 h", "frontier"]  # fmt: skip
        rows = [
            [
                f"{row['deadline_hours']:g}",
                f"{row['reviewers_per_100k_users']:g}",
                f"{row['fine_factor']:g}",
                _with_interval(row, "lawful_speech_lost"),
                _with_interval(row, "unlawful_exposure_prevented"),
                _pct(row["removed_within_1h_mean"]),
                "*" if row["efficient"] else "",
            ]
            for row in table.to_dict(orient="records")
        ]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
        for line in [headers, *rows]:
            click.echo("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))
        click.echo(
            "means with 95% t intervals [..] and bootstrap intervals (..); "
            "* on the frontier (no setting does better on both)"
        )
    click.echo(wrote)
