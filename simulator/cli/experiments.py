"""``censim sweep``, ``censim sensitivity`` and ``censim sweep-plot``: thin layers over
:mod:`simulator.experiments`, :mod:`simulator.experiments.sensitivity` and
:mod:`simulator.plots.sweeps`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from simulator.errors import ScenarioError
from simulator.experiments.designs import DESIGN_FILE_HELP, SweepError
from simulator.experiments.executors import SCHEDULER_ENV
from simulator.model.scenario import MAX_USERS, USERS_HELP
from simulator.output.folder_checks import check_file_target
from simulator.output.folders import shown

FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def _scenario_with_fixed(
    scenario: str, fixed: tuple[str, ...], days: int | None, users: int | None
) -> Any:
    from simulator.experiments.designs import apply_fixed, parse_set
    from simulator.model.scenario import load_scenario

    loaded = load_scenario(scenario)
    changes: dict[str, Any] = {}
    for text in fixed:
        name, value = parse_set(text)
        changes[name] = value
    loaded = apply_fixed(loaded, changes, source="--set")
    if days is not None:
        loaded = apply_fixed(loaded, {"horizon_days": days}, source="--days")
    if users is not None:
        loaded = apply_fixed(loaded, {"population.users": users}, source="--users")
    return loaded


def _refuse_fixed_and_varied(
    fixed: tuple[str, ...],
    days: int | None,
    users: int | None,
    varied: Any,
    option: str,
    scenario: Any,
) -> None:
    """Refuse a field both fixed (``--set``, ``--days``, ``--users``) and varied (``option``:
    ``--vary``, a design file, ``--param``): one would silently win over the other. Paths
    are compared as ``scenario`` resolves them (``platforms.0`` is ``platforms.weibo``
    where weibo is the first platform), and a table overlaps its fields (``--set
    rules.penalties.ladder=...`` and ``--vary rules.penalties.ladder.0.amount``)."""
    from simulator.experiments.designs import SweepError, parse_set
    from simulator.model.scenario.reading import resolved_path

    data = scenario.to_dict()
    fixing: dict[tuple[int | str, ...], str] = {}
    for text in fixed:
        name, _ = parse_set(text)
        fixing.setdefault(resolved_path(data, name), f"--set {name}")
    if days is not None:
        fixing.setdefault(("horizon_days",), "--days")
    if users is not None:
        fixing.setdefault(("population", "users"), "--users")

    def overlap(a: tuple[int | str, ...], b: tuple[int | str, ...]) -> bool:
        return a[: len(b)] == b or b[: len(a)] == a

    pairs = [
        f"{option_text} and {option} {name}"
        for name in varied
        for path, option_text in fixing.items()
        if overlap(resolved_path(data, name), path)
    ]
    if pairs:
        raise SweepError(
            f"{'; '.join(pairs)}: a field is either fixed or varied, not both (one would "
            "silently override the other); drop one of them"
        )


def _refuse_set_and_levers(fixed: tuple[str, ...], levers: dict[str, str]) -> None:
    """Refuse a ``--set`` of a field that a lever option given also sets (``levers``: the
    option and a regular expression of the dotted fields it sets): the lever's values
    would silently replace the fixed one. (A factor lever, ``--fines`` or
    ``--surveillance``, multiplies the scenario's value with ``--set`` applied: no clash.)"""
    import re

    from simulator.experiments.designs import SweepError, parse_set

    for text in fixed:
        name, _ = parse_set(text)
        for option, fields in levers.items():
            # The field itself, or a table holding it (``--set rules.takedown={...}``).
            parts = fields.split(r"\.")
            tables = [r"\.".join(parts[:k]) for k in range(1, len(parts) + 1)]
            if any(re.fullmatch(table, name) for table in tables):
                raise SweepError(
                    f"--set {name} and {option}: a field is either fixed or varied, not "
                    "both (the lever's values would silently replace it); drop one of them"
                )


def _pct(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{100 * value:.2f}%"


def _with_interval(row: Any, metric: str) -> str:
    """``mean [low, high] (boot_low, boot_high)`` of a share metric in %: the t-interval
    (clipped to [0, 1] in summary.csv: a share cannot leave it) and the percentile
    bootstrap interval beside it, which stays within the replications' range."""
    mean, low, high, boot_low, boot_high = (
        row.get(f"{metric}_{k}") for k in ("mean", "low", "high", "boot_low", "boot_high")
    )
    if mean is None:
        return ""
    if low is None or not math.isfinite(low):
        return _pct(mean)
    text = f"{_pct(mean)} [{_pct(max(low, 0.0))}, {_pct(min(high, 1.0))}]"
    if boot_low is not None and math.isfinite(boot_low):
        text += f" ({_pct(boot_low)}, {_pct(boot_high)})"
    return text


def run_options(*, reps: int = 1, scheduler: bool = True) -> Any:
    """The options every sweeping command shares (``sweep``, ``sensitivity``,
    ``attribution``, ``frontier``, ``phases``): fixed fields, horizon, users, replications
    (``reps`` by default), seed, workers, a Dask scheduler (where the command can use
    one), the store folder, ``--force``, ``--quiet`` and ``--yes``. A decorator."""
    options = [
        click.option(
            "--set",
            "fixed",
            multiple=True,
            metavar="FIELD=VALUE",
            help="Fix a scenario field for every point (TOML literal); repeatable.",
        ),
        click.option("--days", type=click.IntRange(1, 36_500), help="Override the horizon (days)."),
        click.option("--users", type=click.IntRange(1, MAX_USERS), help=USERS_HELP),
        click.option(
            "--reps",
            type=click.IntRange(1, 100_000),
            default=reps,
            show_default=True,
            help="Replications per point (independent seeds).",
        ),
        click.option(
            "--seed",
            type=click.IntRange(0, 2**63 - 1),
            help="Base seed of the replications (default: the scenario's).",
        ),
        click.option(
            "--workers",
            type=click.IntRange(0, 4096),
            help="Local worker processes (default: one per CPU; 0: in this process).",
        ),
    ]
    if scheduler:
        options.append(
            click.option(
                "--scheduler",
                envvar=SCHEDULER_ENV,
                metavar="ADDRESS",
                help=f"Dask scheduler (tcp://HOST:PORT or a scheduler file); env {SCHEDULER_ENV}.",
            )
        )
    options += [
        click.option(
            "--out",
            "out_dir",
            required=True,
            type=click.Path(path_type=Path),
            help="Store folder (rerun the same command to resume).",
        ),
        click.option(
            "--force", is_flag=True, help="Clear a censim store holding a different design."
        ),
        click.option(
            "--quiet", is_flag=True, help="No progress bar, no table: only where the results went."
        ),
        click.option(
            "--yes",
            is_flag=True,
            help="Run even if the estimated memory or disk exceeds what this machine has.",
        ),
    ]

    def decorate(function: Any) -> Any:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


_run_options = run_options()


@click.command("sweep", epilog="\b\n" + DESIGN_FILE_HELP)
@click.argument("scenario")
@click.option(
    "--vary",
    multiple=True,
    metavar="FIELD=V1,V2,...",
    help="Values of a field (TOML literals); repeat for a full grid.",
)
@click.option(
    "--design",
    "design_file",
    type=click.Path(path_type=Path),
    help="Design file (TOML): a grid, a list of points, or a sampled design.",
)
@_run_options
def sweep_command(
    scenario: str,
    vary: tuple[str, ...],
    design_file: Path | None,
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
    """Run SCENARIO at every point of a design, REPS times each, into a resumable store.

    \b
    Example:
      censim sweep classroom --vary rules.takedown.vagueness=0,0.5,1 \\
          --vary rules.takedown.deadline_hours=1,24 --reps 5 --out sweeps/vague
    """
    from simulator.experiments.designs import design_from_options
    from simulator.experiments.sweeps import sweep

    loaded = _scenario_with_fixed(scenario, fixed, days, users)
    design = design_from_options(vary, design_file)
    varied_by = "--vary" if vary else f"--design {design_file}" if design_file else "--vary"
    _refuse_fixed_and_varied(fixed, days, users, design.fields, varied_by, loaded)
    results = sweep(
        loaded,
        design,
        reps=reps,
        seed=seed,
        workers=workers,
        scheduler=scheduler or None,
        out=out_dir,
        force=force,
        progress=not quiet,
        check_resources=not yes,
    )
    drew = _sweep_figure(results, loaded, out_dir)
    total = results.ran + results.reused
    figure = " sweep.png," if drew else ""
    wrote = (
        f"wrote {shown(out_dir)}/ (summary.csv, long.csv, design.json,{figure} runs/): "
        f"{total} runs, "
        f"{results.ran} run now, {results.reused} reused"
    )
    if quiet:
        click.echo(wrote)
        return
    fields = results.fields
    metrics = ("speech_loss", "chilling_effect", "collateral_share")
    headers = ["point", *fields, "speech loss", "chilling", "collateral"]
    rows = [
        [str(row["point"]), *(str(row[f]) for f in fields)]
        + [_with_interval(row, m) for m in metrics]
        for row in results.summary.to_dict(orient="records")
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    for line in [headers, *rows]:
        click.echo("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))
    click.echo(f"{wrote}; means with 95% t intervals [..] and bootstrap intervals (..)")


#: The metric ``censim sweep`` draws in its own figure (sweep.png), as ``plot`` draws a run.
SWEEP_FIGURE_METRIC = "speech_loss"


def sweep_figure(results: Any, loaded: Any) -> Any:
    """Speech loss against the first varied field (one line per value of the others),
    titled with the unit and the scenario's population x horizon (house style)."""
    from simulator.plots.style import title
    from simulator.plots.sweeps import metric_plot

    return metric_plot(
        results,
        results.fields[0],
        SWEEP_FIGURE_METRIC,
        title=title(
            f"Speech loss against {results.fields[0]}",
            "share of the lawful posts that survive without rules, 0 to 1; mean, 95% t "
            "band, dots: replications",
            loaded.name,
            "varied" if "population.users" in results.fields else loaded.population.users,
            "varied" if "horizon_days" in results.fields else loaded.horizon_days,
        ),
    )


def _sweep_figure(results: Any, loaded: Any, out_dir: Path) -> bool:
    """Write ``sweep.png`` (:func:`sweep_figure`) next to the sweep's tables; a design
    that varies no field (a list of whole points) has no axis to draw on: no figure."""
    from simulator.experiments.store import writing_outputs
    from simulator.plots.writing import save

    if not results.fields or results.summary.empty:
        return False
    with writing_outputs(results.out, ["sweep.png"], results.manifest):
        save(sweep_figure(results, loaded), out_dir / "sweep.png")
    return True


@click.command("sensitivity")
@click.argument("scenario")
@click.option(
    "--param",
    "params",
    multiple=True,
    required=True,
    metavar="FIELD=LOW:HIGH",
    help="A parameter and its range; repeat for each parameter.",
)
@click.option(
    "--method", type=click.Choice(["sobol", "morris"]), default="sobol", show_default=True
)
@click.option(
    "--metric",
    default="speech_loss",
    show_default=True,
    help="Metric to analyse (a column of long.csv, e.g. chilling_effect).",
)
@click.option(
    "--samples",
    type=click.IntRange(1, 1_000_000),
    help="Base samples: a power of 2 for sobol (default 64), trajectories for morris (default 10).",
)
@_run_options
def sensitivity_command(
    scenario: str,
    params: tuple[str, ...],
    method: str,
    metric: str,
    samples: int | None,
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
    """Sensitivity of a metric to parameters of SCENARIO (SALib: Sobol' or Morris).

    \b
    Example:
      censim sensitivity classroom --param rules.takedown.vagueness=0:1 \\
          --param rules.takedown.deadline_hours=1:72 --method morris \\
          --metric chilling_effect --days 20 --users 500 --out sweeps/sens
    """
    from simulator.experiments.sensitivity import analyse, parse_params

    ranges = parse_params(params)
    loaded = _scenario_with_fixed(scenario, fixed, days, users)
    _refuse_fixed_and_varied(fixed, days, users, ranges, "--param", loaded)
    result = analyse(
        loaded,
        ranges,
        method=method,
        metric=metric,
        samples=samples,
        reps=reps,
        seed=seed,
        workers=workers,
        scheduler=scheduler or None,
        out=out_dir,
        force=force,
        progress=not quiet,
        check_resources=not yes,
    )
    wrote = f"wrote {shown(out_dir)}/ (indices.csv, indices.png, summary.csv, long.csv, runs/)"
    if quiet:
        click.echo(wrote)
        return
    click.echo(
        f"{method} sensitivity of {metric} ({len(result.sweep.manifest['design']['points'])}"
        f" points x {reps} replications)"
    )
    click.echo(result.table())
    click.echo(wrote)


@click.command("sweep-plot")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--x", "x", required=True, metavar="FIELD", help="Field on the x axis.")
@click.option("--y", "y", metavar="FIELD", help="Second field: draw a heat map over x and y.")
@click.option("--metric", default="speech_loss", show_default=True)
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(path_type=Path),
    help="Figure file (.png, .pdf or .svg).",
)
def sweep_plot_command(folder: Path, x: str, y: str | None, metric: str, out_file: Path) -> None:
    """Plot a finished sweep in FOLDER: a metric against one field (95% bands) or a heat
    map over two."""
    from simulator.experiments.sweeps import SweepResults
    from simulator.plots.sweeps import metric_heatmap, metric_plot
    from simulator.plots.writing import save

    if out_file.suffix.lower() not in FIGURE_SUFFIXES:
        raise SweepError(
            f"--out {shown(out_file)}: unknown figure type; allowed: {', '.join(FIGURE_SUFFIXES)}"
        )
    check_file_target(out_file, new=True, option="--out")
    results = SweepResults.read(folder)
    figure = metric_heatmap(results, x, y, metric) if y else metric_plot(results, x, metric)
    try:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        save(figure, out_file)
    except OSError as error:
        from simulator.errors import OutputError

        raise OutputError(f"{shown(out_file)}: cannot write ({error.strerror})") from None
    click.echo(f"wrote {shown(out_file)}")


@click.command("groups")
@click.argument("scenario")
@click.option("--reps", type=click.IntRange(1, 10_000), default=5, show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), help="Base seed.")
@click.option("--against", help="The reference group (default: the largest).")
@click.option("--days", type=click.IntRange(1, 36_500), help="Override the horizon (days).")
@click.option("--users", type=click.IntRange(1, MAX_USERS), help=USERS_HELP)
@click.option("--set", "fixed", multiple=True, metavar="FIELD=VALUE", help="Fix a field.")
@click.option("--csv", "csv_file", type=click.Path(path_type=Path), help="Write the table here.")
@click.option(
    "--yes", is_flag=True, help="Run even if the estimated memory exceeds what is available."
)
def groups_command(
    scenario: str,
    reps: int,
    seed: int | None,
    against: str | None,
    days: int | None,
    users: int | None,
    fixed: tuple[str, ...],
    csv_file: Path | None,
    yes: bool,
) -> None:
    """Compare SCENARIO's user groups: each group's deletion rate, withholding and
    detentions per 1,000 users over --reps seeds, and its difference from --against,
    paired within each run, with 95% t intervals (docs/experiments.md "Groups")."""
    from simulator.errors import OutputError
    from simulator.experiments.groups import compare_groups

    if csv_file is not None:
        check_file_target(csv_file, new=True, option="--csv")
    loaded = _scenario_with_fixed(scenario, fixed, days, users)
    if not yes:  # one run at a time, rules only; nothing large is written
        from simulator.experiments.resources import Needs, check, run_memory

        check(Needs(memory=run_memory(loaded), disk=0), Path("."), "this comparison")
    result = compare_groups(loaded, reps=reps, seed=seed, against=against)
    click.echo(
        f"{result.scenario}: {reps} replications (95% t intervals [..], bootstrap (..)); "
        f"differences from `{result.against}` paired within each run"
    )
    click.echo(f"{'group':<20} {'rate':<26} {'mean [t] (bootstrap)':<44} minus {result.against}")
    for _, row in result.table.iterrows():
        level = _number_interval(
            row["mean"], row["low"], row["high"], row["boot_low"], row["boot_high"]
        )
        difference = _number_interval(
            row["minus_against"],
            row["minus_against_low"],
            row["minus_against_high"],
            row["minus_against_boot_low"],
            row["minus_against_boot_high"],
        )
        click.echo(f"{row['group']:<20} {row['rate']:<26} {level:<44} {difference}")
    if csv_file is not None:
        from simulator.files import atomic_write_bytes

        try:
            csv_file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(csv_file, result.table.to_csv(index=False).encode())
        except OSError as error:
            raise OutputError(f"{shown(csv_file)}: cannot write ({error.strerror})") from None
        click.echo(f"wrote {shown(csv_file)}")


def _number_interval(
    mean: float, low: float, high: float, boot_low: float = math.nan, boot_high: float = math.nan
) -> str:
    """``mean [low, high] (boot_low, boot_high)``: the t-interval and, where there is one,
    the percentile bootstrap interval; ``n/a`` where nothing was measured (a group with
    no users or no published posts in every replication)."""
    if not math.isfinite(mean):
        return "n/a"
    interval = f" [{low:.4g}, {high:.4g}]" if math.isfinite(low) else ""
    boot = f" ({boot_low:.4g}, {boot_high:.4g})" if math.isfinite(boot_low) else ""
    return f"{mean:.4g}{interval}{boot}"


@click.command("event-study")
@click.argument("scenario")
@click.option("--entry", required=True, help="The timeline entry whose effect is measured.")
@click.option("--reps", type=click.IntRange(1, 10_000), default=8, show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), help="Base seed.")
@click.option(
    "--outcome", default="withheld", show_default=True, help="A daily.csv outcome column."
)
@click.option(
    "--kinds",
    default="critical,collective_action",
    show_default=True,
    help="Content kinds summed, comma-separated.",
)
@click.option("--days", type=click.IntRange(1, 36_500), help="Override the horizon (days).")
@click.option("--users", type=click.IntRange(1, MAX_USERS), help=USERS_HELP)
@click.option("--set", "fixed", multiple=True, metavar="FIELD=VALUE", help="Fix a field.")
@click.option("--csv", "csv_file", type=click.Path(path_type=Path), help="Write the table here.")
@click.option("--plot", "plot_file", type=click.Path(path_type=Path), help="Write the figure.")
@click.option(
    "--yes", is_flag=True, help="Run even if the estimated memory exceeds what is available."
)
def event_study_command(
    scenario: str,
    entry: str,
    reps: int,
    seed: int | None,
    outcome: str,
    kinds: str,
    days: int | None,
    users: int | None,
    fixed: tuple[str, ...],
    csv_file: Path | None,
    plot_file: Path | None,
    yes: bool,
) -> None:
    """The effect of SCENARIO's timeline entry --entry by days since its day: the scenario
    run with and without it on the same seeds, --reps times (docs/experiments.md)."""
    from simulator.errors import OutputError
    from simulator.experiments.event_study import event_study

    if plot_file is not None and plot_file.suffix.lower() not in FIGURE_SUFFIXES:
        raise SweepError(
            f"--plot {shown(plot_file)}: unknown figure type; allowed: {', '.join(FIGURE_SUFFIXES)}"
        )
    for option, path in (("--csv", csv_file), ("--plot", plot_file)):
        if path is not None:
            check_file_target(path, new=True, option=option)
    loaded = _scenario_with_fixed(scenario, fixed, days, users)
    if not yes:  # one run at a time, rules only; nothing large is written
        from simulator.experiments.resources import Needs, check, run_memory

        check(Needs(memory=run_memory(loaded), disk=0), Path("."), "this event study")
    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip())
    study = event_study(loaded, entry, reps=reps, seed=seed, outcome=outcome, kinds=chosen)
    table = study.table
    click.echo(
        f"{study.scenario}: `{entry}` on day {study.event_day}, {outcome} of "
        f"{', '.join(chosen)} a day, {reps} paired replications "
        "(95% t intervals [..], bootstrap (..))"
    )
    click.echo(f"{'days since':>10} {'treated':>10} {'control':>10}  effect [t] (bootstrap)")
    step = max(1, math.ceil(len(table) / 20))
    for _, row in table.iloc[::step].iterrows():
        low, high = row["effect_low"], row["effect_high"]
        interval = f" [{low:.3g}, {high:.3g}]" if math.isfinite(low) else ""
        if math.isfinite(row["effect_boot_low"]):
            interval += f" ({row['effect_boot_low']:.3g}, {row['effect_boot_high']:.3g})"
        click.echo(
            f"{int(row['days_since']):>10} {row['treated_mean']:>10.3g} "
            f"{row['control_mean']:>10.3g}  {row['effect_mean']:.3g}{interval}"
        )
    try:
        if csv_file is not None:
            from simulator.files import atomic_write_bytes

            csv_file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(csv_file, table.to_csv(index=False).encode())
            click.echo(f"wrote {shown(csv_file)}")
        if plot_file is not None:
            from simulator.plots.event_study import event_study_figure
            from simulator.plots.writing import save

            plot_file.parent.mkdir(parents=True, exist_ok=True)
            save(event_study_figure(study), plot_file)
            click.echo(f"wrote {shown(plot_file)}")
    except OSError as error:
        raise OutputError(f"cannot write ({error.strerror})") from None


__all__ = [
    "ScenarioError",
    "event_study_command",
    "groups_command",
    "sensitivity_command",
    "sweep_command",
    "sweep_plot_command",
]
