"""``censim plot`` and ``censim compare``: figures of a run, and of several regimes.

Both are thin layers over :mod:`simulator.plots`: ``plot`` is
:func:`simulator.plots.write_all`, ``compare`` runs (or reads) the regimes, then calls
:func:`simulator.plots.comparison_table` and :func:`simulator.plots.comparison`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from simulator.errors import OutputError
from simulator.model.scenario import MAX_USERS, USERS_HELP
from simulator.output.folders import check_path_component, shown
from simulator.output.results import Results

FORMAT_CHOICE = click.Choice(["png", "svg", "pdf"], case_sensitive=False)
#: Default seed of ``compare``: every regime gets the same replication seeds.
COMPARE_SEED = 1


def read_run(folder: Path) -> Results:
    """A run folder, or an :class:`OutputError` that says what is wrong with it."""
    if not folder.exists():
        raise OutputError(f"{shown(folder)}: no such folder")
    if not folder.is_dir():
        raise OutputError(
            f"{shown(folder)}: is a file, not a run folder (give the folder `censim run` wrote)"
        )
    if not (folder / "summary.json").is_file():
        raise OutputError(
            f"{shown(folder)}: not a censim run folder (no summary.json); "
            "make one with `censim run SCENARIO --out FOLDER`"
        )
    _check_files(folder)
    try:
        results = Results.read(folder)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        # ValueError covers bad JSON and unreadable CSV (pandas raises its subclasses);
        # AttributeError a JSON file that is not an object.
        detail = f"{type(error).__name__}: {error}".splitlines()[0]
        raise OutputError(
            f"{shown(folder)}: run folder is incomplete or damaged ({detail})"
        ) from None
    check_run_folder(folder, results)
    return results


#: Largest JSON file of a run folder read back (bytes); a summary is a few kB.
MAX_RUN_JSON_BYTES = 50_000_000


def _check_files(folder: Path) -> None:
    """Every file of a run folder is a regular file (a FIFO would block the reader), a
    table is not empty, the JSON files are JSON objects and the summary names its
    scenario and seed; else an :class:`OutputError` naming the file."""
    import stat

    from simulator.files import UnreadableFile, kind_of_file, read_regular_file
    from simulator.output.results import LATER_TABLES, TABLES

    for name, required in (
        ("summary.json", True),
        ("manifest.json", True),
        ("scenario.json", False),
    ):
        path = folder / name
        if not required and not path.exists():
            continue
        try:
            data = json.loads(read_regular_file(path, MAX_RUN_JSON_BYTES).decode("utf-8"))
        except UnreadableFile as error:
            raise OutputError(
                f"{path}: {error.reason}: the run folder is incomplete or damaged"
            ) from None
        except (ValueError, RecursionError):  # not JSON, not UTF-8
            raise OutputError(f"{path}: is not valid JSON: damaged?") from None
        if not isinstance(data, dict):
            raise OutputError(f"{path}: is a JSON {type(data).__name__}, not an object: damaged?")
        if name == "summary.json":
            for key, kind in (("scenario", str), ("seed", int)):
                if not isinstance(data.get(key), kind):
                    raise OutputError(f"{path}: no `{key}` ({kind.__name__}): edited or damaged?")
            _check_summary_numbers(path, data)
    for table in TABLES:
        path = folder / f"{table}.csv"
        if table in LATER_TABLES and not path.exists() and not path.is_symlink():
            continue  # a run folder written before the table existed
        try:
            info = path.stat()
        except OSError as error:
            raise OutputError(
                f"{path}: cannot be read ({error.strerror}): the run folder is incomplete "
                "or damaged"
            ) from None
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"{path}: is {kind_of_file(info.st_mode)}, not a table")
        if info.st_size == 0:
            raise OutputError(f"{path}: is empty (not even a header): cut short?")


def _check_summary_numbers(path: Path, summary: dict[str, Any]) -> None:
    """The sizes and the numbers `plot` and `compare` read from a summary are numbers
    where present (a run folder written before a metric existed lacks it); else an
    :class:`OutputError` naming the file and the field."""
    from simulator.plots.compare import TABLE_METRICS

    def number(value: Any, whole: bool) -> bool:
        if isinstance(value, bool):
            return False
        return isinstance(value, int) if whole else isinstance(value, int | float)

    for key in ("horizon_days", "users", "intended", "excluded"):
        if key in summary and not number(summary[key], whole=True):
            raise OutputError(
                f"{path}: `{key}` is {summary[key]!r}, not a whole number: edited or damaged?"
            )
    for metric in TABLE_METRICS:
        parent, _, child = metric.partition(".")
        holder = summary.get(parent) if child else summary
        if child and not isinstance(holder, dict):
            if holder is None:
                continue
            raise OutputError(f"{path}: `{parent}` is not an object: edited or damaged?")
        value = holder.get(child or metric) if isinstance(holder, dict) else None
        if value is not None and not number(value, whole=False):
            raise OutputError(f"{path}: `{metric}` is {value!r}, not a number: edited or damaged?")


_COUNTS = ("intended", "withheld", "excluded", "blocked", "removed", "surviving", "softened")
#: What a run folder's tables hold (besides ``scenario``, ``seed``, ``replication``):
#: column -> ``number``, ``flag`` (True/False) or ``text``. What `plot` and `compare`
#: read back is checked against it, so a renamed column or a damaged cell is named.
RUN_TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "daily": {
        "day": "number",
        "platform": "text",
        "channel": "text",
        "kind": "text",
        **dict.fromkeys(_COUNTS, "number"),
        "exposure": "number",
        "prohibited": "flag",
        "lawful": "flag",
    },
    "delays": {
        "kind": "text",
        "lower_hours": "number",
        "upper_hours": "number",
        "removed": "number",
    },
    "events": {
        "time_hours": "number",
        "day": "number",
        "event": "text",
        "platform": "text",
        "user": "number",
        "kind": "text",
        "amount": "number",
        "detail": "text",
    },
    "platform_daily": {
        "day": "number",
        "platform": "text",
        **dict.fromkeys(
            ("serving", "active_users", "strictness", "penalty_level", "queue_waiting"), "number"
        ),
        **dict.fromkeys(("reviews", "removals", "cash", "fines_paid", "moderation_cost"), "number"),
    },
    "population_daily": {
        "day": "number",
        **dict.fromkeys(
            (
                f"mean_p_{sanction}_{kind}"
                for sanction in ("removal", "detention")
                for kind in ("critical", "collective_action", "unlawful")
            ),
            "number",
        ),
        **dict.fromkeys(
            ("active", "excluded", "left", "circumventing", "detained", "traceable"), "number"
        ),
        "reported_ever": "number",
        "detained_ever": "number",
        # Sanctions and the population (docs/model.md S14).
        **dict.fromkeys(
            (
                "excluded_closed",
                "excluded_left",
                "excluded_refused_real_name",
                "excluded_detained",
                "excluded_suspended",
                "excluded_account_suspended",
                "accounts_closed",
                "accounts_suspended",
                "accounts_returned",
                "users_renewed",
            ),
            "number",
        ),
    },
}
RUN_TABLE_COLUMNS["counterfactual_daily"] = RUN_TABLE_COLUMNS["daily"]
#: Columns a run folder written before they existed lacks (read back without them).
LATER_COLUMNS = {"daily": {"exposure"}, "counterfactual_daily": {"exposure"}}

# Notices by sender, removals by route, the transparency report (docs/metrics.md).
RUN_TABLE_COLUMNS["notices"] = {
    "platform": "text",
    "sender": "text",
    "kind": "text",
    **dict.fromkeys(
        (
            "notices",
            "removed",
            "post_removed",
            "removed_within_24h",
            "removed_within_48h",
            "removed_within_7d",
        ),  # fmt: skip
        "number",
    ),
}
RUN_TABLE_COLUMNS["removals"] = {
    "platform": "text",
    "route": "text",
    "kind": "text",
    **dict.fromkeys(("removals", "appealed", "reinstated"), "number"),
}
RUN_TABLE_COLUMNS["transparency"] = {
    **dict.fromkeys(("platform", "regime", "part", "item", "sender", "kind"), "text"),
    "value": "number",
}
# The decisions by phase, stance and boldness quintile (docs/metrics.md "phases.csv").
RUN_TABLE_COLUMNS["phases"] = {
    "kind": "text",
    **dict.fromkeys(
        (
            "stance_quantile",
            "boldness_quantile",
            "compliant",
            "partly_self_censoring",
            "fully_self_censoring",
            "defiant",
            "decisions",
        ),  # fmt: skip
        "number",
    ),
}


def check_run_folder(folder: Path, results: Results) -> None:
    """An :class:`OutputError` naming the file and the column (or summary field) if a run
    folder read back is not as censim wrote it: a column renamed or deleted, text where
    numbers belong, a summary without its per-kind counts, a table cut to its header."""
    import pandas as pd

    from simulator.kinds import KIND_LABELS
    from simulator.output.results import LATER_TABLES

    for name, columns in RUN_TABLE_COLUMNS.items():
        frame = results.table(name)
        where = folder / f"{name}.csv"
        if name in LATER_TABLES and frame.empty and not where.exists():
            continue  # a run folder written before the table existed
        for column, kind in columns.items():
            if column not in frame.columns:
                if column in LATER_COLUMNS.get(name, ()):
                    continue
                raise OutputError(
                    f"{where}: no column `{column}` (renamed or deleted?); a run folder's "
                    f"{name}.csv has: {', '.join(columns)}"
                )
            values = frame[column]
            if not len(values) or kind == "text":
                continue
            is_flag = pd.api.types.is_bool_dtype(values)
            if (kind == "flag") != is_flag or not pd.api.types.is_numeric_dtype(values):
                expected = "True or False" if kind == "flag" else "numbers"
                wrong = values[pd.to_numeric(values, errors="coerce").isna()]
                example = (
                    f" ({wrong.iloc[0]!r} on line {int(wrong.index[0]) + 2})" if len(wrong) else ""
                )
                raise OutputError(f"{where}: column `{column}` should hold {expected}{example}")
    summary = folder / "summary.json"
    per_kind = results.summary.get("per_kind")
    for label in KIND_LABELS:
        counts = per_kind.get(label) if isinstance(per_kind, dict) else None
        if not isinstance(counts, dict):
            raise OutputError(f"{summary}: no counts for `per_kind.{label}` (edited or damaged?)")
        for count in _COUNTS:
            value = counts.get(count)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise OutputError(
                    f"{summary}: `per_kind.{label}.{count}` should be a number (got {value!r})"
                )
    days = results.summary.get("horizon_days")
    if isinstance(days, int) and len(results.population_daily) != days:
        raise OutputError(
            f"{folder / 'population_daily.csv'}: {len(results.population_daily):,} rows, but the "
            f"run has {days:,} days (one row each): cut short or edited"
        )


@click.command(name="plot")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Folder for the figures (default: RUN_DIR/figures).",
)
@click.option(
    "--format", "fmt", type=FORMAT_CHOICE, default="png", show_default=True, help="File format."
)
def plot_command(run_dir: Path, out_dir: Path | None, fmt: str) -> None:
    """Write the figures of the run in RUN_DIR (a folder written by `censim run`).

    \b
    funnel         where intended posts went, per content kind
    time_series    speech, perceived risk and users per day
    removal_curve  cumulative share removed by delay, with published Weibo figures
    platforms      strictness, fines, penalties and suspensions per platform
    """
    from simulator import plots

    results = read_run(run_dir)
    target = out_dir or run_dir / "figures"
    written = plots.write_all(results, target, fmt=fmt.lower())
    for path in written:
        click.echo(f"wrote {shown(path)}")


# -- compare ------------------------------------------------------------------------------


@dataclass
class Regime:
    """One thing to compare: a scenario to run, or run folders already written."""

    label: str
    scenario: Any = None  # a Scenario to run, or None for loaded runs
    runs: list[Results] = field(default_factory=list)


def _unique(label: str, taken: set[str]) -> str:
    candidate, n = label, 2
    while candidate in taken:
        candidate, n = f"{label}-{n}", n + 1
    taken.add(candidate)
    return candidate


def resolve_regimes(items: Sequence[str], users: int | None) -> list[Regime]:
    """Each item as a regime: an existing folder is read (a run folder, or a folder of
    run folders = replications); anything else is a scenario name or .toml file."""
    from simulator.model.scenario import load_scenario, override

    regimes: list[Regime] = []
    taken: set[str] = set()
    for item in items:
        path = Path(item)
        if path.is_dir():
            if (path / "summary.json").is_file():
                runs = [read_run(path)]
            else:
                folders = sorted(p for p in path.iterdir() if (p / "summary.json").is_file())
                if not folders:
                    raise OutputError(
                        f"{shown(path)}: not a censim run folder (no summary.json) and holds "
                        "no run folders; give a run folder, a folder of run folders, a shipped "
                        "scenario name or a .toml file"
                    )
                runs = [read_run(p) for p in folders]
                _warn_if_not_replications(path, folders, runs)
            label = path.resolve().name or str(path)
            regimes.append(Regime(_unique(label, taken), runs=runs))
        else:
            scenario = load_scenario(item)
            if users is not None:
                scenario = override(scenario, {"population.users": users}, source="--users")
            regimes.append(Regime(_unique(scenario.name, taken), scenario=scenario))
    return regimes


def _run_identity(results: Results) -> str:
    """What replications of one run share: the scenario (by its resolved hash), its
    horizon and its users."""
    summary, manifest = results.summary, results.manifest
    return (
        f"{summary.get('scenario')}, {summary.get('horizon_days')} days, "
        f"{summary.get('users')} users, scenario {str(manifest.get('scenario_sha256'))[:12]}"
    )


def _warn_if_not_replications(folder: Path, folders: list[Path], runs: list[Results]) -> None:
    """A folder of run folders is compared as replications of one regime: say so if they
    are not (another scenario, horizon or population among them, or one seed twice),
    as in a folder someone else filled or damaged; they are pooled as asked."""
    from simulator.errors import warn

    kinds: dict[str, Path] = {}
    for place, results in zip(folders, runs, strict=True):
        kinds.setdefault(_run_identity(results), place)
    if len(kinds) > 1:
        shown = "; ".join(f"{place.name}: {kind}" for kind, place in list(kinds.items())[:3])
        warn(
            f"{folder}: its {len(runs)} run folders are not replications of one run "
            f"({len(kinds)} different scenarios, horizons or populations, e.g. {shown}); "
            "they are pooled as one regime"
        )
    seen: dict[int, Path] = {}
    for place, results in zip(folders, runs, strict=True):
        if results.seed in seen:
            warn(
                f"{folder}: {seen[results.seed].name} and {place.name} have the same seed "
                f"({results.seed}): not independent replications; both are pooled"
            )
            break
        seen[results.seed] = place


@click.command(name="compare")
@click.argument("items", nargs=-1, required=True, metavar="SCENARIO_OR_RUN...")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for the figure, the table and the runs.",
)
@click.option(
    "--reps",
    type=click.IntRange(1, 10_000),
    default=5,
    show_default=True,
    help="Replications of each scenario (run folders given are used as they are).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=COMPARE_SEED,
    show_default=True,
    help="Seed of the replication seeds; every scenario gets the same ones.",
)
@click.option("--days", type=click.IntRange(1, 36_500), help="Override the horizon (days).")
@click.option("--users", type=click.IntRange(1, MAX_USERS), help=USERS_HELP)
@click.option(
    "--format", "fmt", type=FORMAT_CHOICE, default="png", show_default=True, help="Figure format."
)
@click.option("--force", is_flag=True, help="Replace a comparison folder censim wrote at --out.")
@click.option(
    "--quiet", is_flag=True, help="No progress bar, no table: only where the results went."
)
@click.option(
    "--yes", is_flag=True, help="Run even if the estimated memory or disk exceeds what is free."
)
def compare_command(
    items: tuple[str, ...],
    out_dir: Path,
    reps: int,
    seed: int,
    days: int | None,
    users: int | None,
    fmt: str,
    force: bool,
    quiet: bool,
    yes: bool,
) -> None:
    """Compare regimes: run each SCENARIO (shipped name or .toml) --reps times, or read
    existing run folders, and write comparison.png and comparison.csv (mean and 95%
    interval across replications of speech loss, chilling effect, collateral share...).

    \b
    Example:
      censim compare open_baseline china_csl_2016 --reps 5 --users 5000 --out cmp/
    """
    from tqdm import tqdm

    from simulator import plots
    from simulator.engine.pairing import run as run_scenario
    from simulator.output.folders import COMPARISON, FOLDER_KEY, check_target, staged_folder
    from simulator.streams import replication_seeds

    check_target(out_dir, COMPARISON, force)  # before the runs; checked again when writing
    _check_inputs_outside(items, out_dir)
    regimes = resolve_regimes(items, users)
    seeds = replication_seeds(seed, reps)
    to_run = [r for r in regimes if r.scenario is not None]
    for regime in to_run:  # its label names the folder of its runs
        check_path_component(regime.label, "scenario name")
    if not yes and to_run:  # before any run: see simulator.experiments.resources
        from simulator.experiments import resources
        from simulator.model.scenario import override

        sized = [
            override(r.scenario, {"horizon_days": days}) if days else r.scenario for r in to_run
        ]
        needs = resources.compare_needs(sized, reps)
        smaller = "fewer --reps, --users or --days"
        resources.check(needs, out_dir, f"this comparison ({needs.runs:,} runs)", smaller)
    with tqdm(
        total=len(to_run) * reps, disable=quiet, unit="run", desc="compare", dynamic_ncols=True
    ) as bar:
        for regime in to_run:
            for replication, run_seed in enumerate(seeds):
                bar.set_postfix_str(f"{regime.label} rep {replication + 1}/{reps}")
                results = run_scenario(
                    regime.scenario, seed=run_seed, days=days, replication=replication
                )
                regime.runs.append(results)
                bar.update(1)
    groups = {regime.label: regime.runs for regime in regimes}
    table = plots.comparison_table(groups)
    users_shown, days_shown = plots.compare.run_sizes(groups)
    _warn_regime_sizes(groups)
    figure = plots.comparison(table, users=users_shown, days=days_shown)
    figure_name = f"comparison.{fmt.lower()}"
    # Everything is written into a staging folder and published in one rename: a full
    # disk or an interrupt leaves no half-written comparison (and an old one unchanged).
    with staged_folder(out_dir, COMPARISON, force) as staging:
        for regime in to_run:
            for replication, results in enumerate(regime.runs):
                # Every run is kept, so the comparison can be re-plotted or inspected later.
                folder = staging / "runs" / regime.label / f"rep{replication:03d}"
                folder.mkdir(parents=True)
                results.write_files(folder)
        table.to_csv(
            staging / "comparison.csv", index=False, float_format="%.6g", lineterminator="\n"
        )
        plots.save(figure, staging / figure_name)
        mechanisms = plots.loss_by_mechanism(table, users=users_shown, days=days_shown)
        plots.save(mechanisms, staging / f"mechanisms.{fmt.lower()}")
        manifest = {
            FOLDER_KEY: COMPARISON,
            "items": list(items),
            "seed": seed,
            "replication_seeds": seeds,
            "reps": reps,
            "days": days,
            "users": users,
            "regimes": {
                r.label: {"ran": r.scenario is not None, "replications": len(r.runs)}
                for r in regimes
            },
        }
        (staging / "comparison.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if not quiet:
        click.echo("\n".join(format_table(table)))
    runs_written = f" and {shown(out_dir / 'runs')}/" if to_run else ""
    click.echo(
        f"wrote {shown(out_dir / figure_name)}, {shown(out_dir / f'mechanisms.{fmt.lower()}')}, "
        f"{shown(out_dir / 'comparison.csv')}{runs_written}"
    )


def _warn_regime_sizes(groups: dict[str, list[Results]]) -> None:
    """Warn (standard error) where the regimes compared ran at different sizes: their
    rates compare, their totals (detentions, fines, events) do not. (Runs of different
    sizes within one regime's folder are warned of when the folder is read.)"""
    from simulator.plots.compare import run_sizes

    sizes = [run_sizes({label: runs}) for label, runs in groups.items()]
    differ = [
        what
        for what, i in (("users", 0), ("days", 1))
        if len({size[i] for size in sizes if size[i] not in (None, "varied")}) > 1
    ]
    if differ:
        click.echo(
            f"warning: the regimes compared differ in {' and '.join(differ)}: their rates "
            "compare, their totals (detentions, fines, events) do not",
            err=True,
        )


def _check_inputs_outside(items: tuple[str, ...], out_dir: Path) -> None:
    """Refuse a comparison whose --out holds (or is) a run folder it reads: writing the
    comparison replaces --out whole, so with --force the runs read would be lost."""
    target = Path(os.path.realpath(out_dir))
    for item in items:
        folder = Path(item)
        if not folder.is_dir():
            continue
        read = Path(os.path.realpath(folder))
        if read == target or target in read.parents:
            raise OutputError(
                f"--out {shown(out_dir)}: holds {shown(folder)}, which this comparison reads; "
                "writing the comparison would replace it; choose another --out"
            )


def format_table(table: Any) -> list[str]:
    """The comparison as text: per regime, mean [95% t-interval] in %, and beneath it the
    percentile bootstrap interval (which stays within the replications' range: a rare
    big event in one replication shows as a lopsided interval)."""

    def cell(row: Any, metric: str) -> str:
        mean = row[f"{metric}_mean"]
        low, high = row[f"{metric}_ci_low"], row[f"{metric}_ci_high"]
        if not math.isfinite(mean):  # run folders written before the metric existed
            return "n/a"
        text = f"{100 * mean:6.2f}%"
        if math.isfinite(low) and math.isfinite(high):
            text += f" [{100 * low:.2f}, {100 * high:.2f}]"
        return text

    def boot(row: Any, metric: str) -> str:
        low, high = row.get(f"{metric}_boot_low"), row.get(f"{metric}_boot_high")
        if low is None or not (math.isfinite(low) and math.isfinite(high)):
            return ""
        return f"        ({100 * low:.2f}, {100 * high:.2f})"

    from simulator.plots import DEFAULT_COMPARISON

    width = max(12, *(len(str(r)) for r in table["regime"]))
    header = f"{'regime':<{width}} reps  " + "  ".join(f"{m:<26}" for m in DEFAULT_COMPARISON)
    lines = [header]
    for _, row in table.iterrows():
        cells = "  ".join(f"{cell(row, m):<26}" for m in DEFAULT_COMPARISON)
        lines.append(f"{row['regime']:<{width}} {int(row['replications']):>4}  {cells}")
        boots = [boot(row, m) for m in DEFAULT_COMPARISON]
        if any(boots):
            cells = "  ".join(f"{b:<26}" for b in boots)
            lines.append(f"{'  bootstrap':<{width}} {'':>4}  {cells}".rstrip())
    lines.append(
        "(mean over replications [95% t-interval]; beneath: (95% bootstrap interval); shares in %)"
    )
    return lines
