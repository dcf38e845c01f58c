"""The ``censim`` command: a thin, friendly layer over the Python API.

Every command is one call a notebook can make too (``simulator.run``,
``simulator.load_scenario``...). Errors a user can fix print one clear message and exit
non-zero; they never print a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from simulator.errors import CensimError, ScenarioError
from simulator.interrupts import (
    EXIT_INTERRUPTED,
    announce_interrupted,
    interrupts_raise,
    was_interrupted,
)
from simulator.model.scenario import (
    MAX_USERS,
    USERS_HELP,
    Scenario,
    load_scenario,
    read_scenario_dict,
    shipped_scenarios,
)
from simulator.output.folders import printable

__all__ = ["EXIT_INTERRUPTED", "main"]


class FriendlyGroup(click.Group):
    """Turns user errors into a message and an exit code instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with interrupts_raise():
                result = super().invoke(ctx)
        except CensimError as error:
            if was_interrupted(error):
                self._interrupted(ctx)
            click.echo(f"error: {printable(str(error))}", err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            self._interrupted(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # Output piped into `head` and closed early: not an error of ours.
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except MemoryError:
            click.echo("error: out of memory; try fewer users or days", err=True)
            ctx.exit(4)
        except Exception as error:  # a bug in censim: say so briefly, keep the trace for --debug
            if was_interrupted(error):
                # Interrupted inside compiled code, numba reports a SystemError caused by
                # the KeyboardInterrupt: an interrupt, not a bug.
                self._interrupted(ctx)
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(
                f"internal error: {type(error).__name__}: {printable(str(error))}\n"
                "This is a bug in censim; rerun with `censim --debug ...` and report the trace.",
                err=True,
            )
            ctx.exit(70)
        if was_interrupted():  # an interrupt something swallowed: still an interrupt
            self._interrupted(ctx)
        return result

    @staticmethod
    def _interrupted(ctx: click.Context) -> None:
        announce_interrupted()
        ctx.exit(EXIT_INTERRUPTED)


def _exit_codes_help() -> str:
    from simulator.errors import EXIT_CODES

    return "\b\nExit codes:\n" + "\n".join(
        f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items()
    )


@click.group(
    cls=FriendlyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=_exit_codes_help(),
)
@click.version_option(package_name="censim")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """censim: what censorship rules do to online speech.

    \b
    Quick start:
      censim scenarios                     list the shipped scenarios
      censim run classroom --out runs/c1   run one, write its tables
      censim validate my.toml              check a scenario file
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _summary_lines(summary: dict[str, Any]) -> list[str]:
    def pct(x: float | None) -> str:
        return "n/a" if x is None or x != x else f"{100 * x:.2f}%"

    lines = [
        f"scenario {summary['scenario']}  seed {summary['seed']}  "
        f"{summary['users']:,} users  {summary['horizon_days']} days",
        f"  intended posts      {summary['intended']:>14,}",
        f"  withheld            {summary['withheld']:>14,}",
        f"  excluded            {summary['excluded']:>14,}",
        f"  blocked             {summary['blocked']:>14,}",
        f"  removed             {summary['removed']:>14,}",
        f"  surviving           {summary['surviving']:>14,}",
        f"  speech loss         {pct(summary['speech_loss']):>14}   (lawful lost vs no rules)",
        f"  chilling effect     {pct(summary['chilling_effect']):>14}   (lawful posts withheld)",
        f"  collateral share    {pct(summary['collateral_share']):>14}   (lawful among taken down)",
    ]
    if "political_speech_lost" in summary:  # summaries written before issue 18 lack them
        lines += _political_lines(summary, pct)
    if "unlawful_exposure" in summary:  # summaries written before exposure lack it
        lines += _exposure_lines(summary, pct)
    if summary["taken_down"]:
        lines.append(
            "  removed within 8 min / 30 min / 1 h / 24 h: "
            + " / ".join(
                pct(summary[f"removed_within_{m}"]) for m in ("8min", "30min", "1h", "24h")
            )
        )
    users = summary["users_final"]
    lines.append(
        f"  users: {users['excluded']:,} excluded, {users['left']:,} left, "
        f"{users['circumventing']:,} circumventing, {users['reported_ever']:,} reported, "
        f"{users['detained_ever']:,} detained"
    )
    if "access" in summary:  # docs/metrics.md "Access": choices when a platform stops serving
        access = summary["access"]
        if access["first_day"] < 0:
            lines.append("  access: no platform stopped serving anyone")
        else:
            first, share = access["first"], access["first_share"]
            lines.append(
                f"  access lost on day {access['first_day']}: "
                + ", ".join(f"{first[k]:,} {k} ({pct(share[k])})" for k in share)
            )
            totals = access["totals"]
            lines.append("    over the run: " + ", ".join(f"{v:,} {k}" for k, v in totals.items()))
        refusers = access.get("real_name_refusers", {})
        if sum(refusers.values()):
            lines.append(
                "  real-name refusers: " + ", ".join(f"{v:,} {k}" for k, v in refusers.items())
            )
    fines = summary["fines_total"]
    if fines or summary["events"]:
        events = ", ".join(
            f"{v:,} {k}" for k, v in summary["events"].items() if k not in ("report", "order")
        )
        currency = summary.get("currency", "")
        lines.append(f"  fines {fines:,.0f} {currency}; events: {events or 'none'}")
    if summary.get("groups"):  # user groups (docs/metrics.md "Groups")
        lines += _group_lines(summary["groups"], pct)
    return lines


def _per_1000(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:.2f}"


def _group_lines(groups: dict[str, Any], pct: Callable[[float | None], str]) -> list[str]:
    """One line per user group: its users, sensitive posts, deletion rate, withholding,
    detentions, arrivals and departures (intervals: ``censim groups``)."""
    lines = ["  by group (sensitive posts; intervals over seeds: censim groups):"]
    for name, row in groups.items():
        lines.append(
            f"    {name}: {row['users']:,} users, deletion {pct(row['deletion_rate'])}, "
            f"withholding {pct(row['withholding_rate'])}, "
            f"{_per_1000(row['detentions_per_1000_users'])} detained per 1,000, "
            f"{row['arrivals']:,} arrived, {row['departures']:,} departed"
        )
    return lines


def _exposure_lines(summary: dict[str, Any], pct: Callable[[float | None], str]) -> list[str]:
    """The harm side (docs/metrics.md, "Exposure"): exposure to unlawful posts prevented
    against the counterfactual, by removal and before publication; lawful exposure lost."""
    return [
        f"  unlawful exposure prevented {pct(summary['unlawful_exposure_prevented']):>6}   "
        f"({summary['unlawful_exposure']:,.1f} audiences seen, "
        f"{summary['counterfactual_unlawful_exposure']:,.1f} with no rules)",
        f"    by removal {pct(summary['unlawful_exposure_prevented_by_removal'])}, "
        f"before publication {pct(summary['unlawful_exposure_prevented_before_publication'])}",
        f"  lawful exposure lost  {pct(summary['lawful_exposure_lost']):>12}   "
        "(views of lawful posts lost vs no rules)",
    ]


def _political_lines(summary: dict[str, Any], pct: Callable[[float | None], str]) -> list[str]:
    """Political speech, the lawful take-down rate and speech loss by mechanism
    (docs/metrics.md, "Political speech" and "Loss by mechanism")."""
    parts = summary["speech_loss_by_mechanism"]
    return [
        f"  lawful take-down rate {pct(summary['lawful_takedown_rate']):>12}   "
        "(lawful taken down / lawful on a platform)",
        f"  political speech lost {pct(summary['political_speech_lost']):>12}   "
        "(critical + calls to act lost vs no rules)",
        f"    withheld {pct(summary['political_speech_withheld'])}, "
        f"excluded {pct(summary['political_speech_excluded'])}, "
        f"taken down {pct(summary['political_speech_taken_down'])}",
        f"    calls to act said as criticism {pct(summary['political_speech_softened'])}; "
        # Unlawful posts are no longer softened (model.md S3); the term stays for old runs.
        + (
            f"unlawful said as criticism +{pct(added)}; "
            if (added := summary["political_speech_added"]) and added > 0.0
            else ""
        )
        + f"net {pct(summary['political_speech_net_loss'])}",
        "  speech loss by mechanism: "
        + ", ".join(
            f"{name} {pct(value)}" if name != "softened_in" else f"said instead {pct(value)}"
            for name, value in parts.items()
        ),
    ]


@main.command()
@click.argument("scenario")
@click.option(
    "--seed", type=click.IntRange(0, 2**63 - 1), help="Random seed (default: the scenario's)."
)
@click.option("--days", type=click.IntRange(1, 36_500), help="Override the horizon (days).")
@click.option("--users", type=click.IntRange(1, MAX_USERS), help=USERS_HELP)
@click.option(
    "--set",
    "fixed",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Change a scenario field for this run (TOML literal, as in `censim sweep`); repeatable.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Run folder to write (default runs/NAME-seedN).",
)
@click.option("--force", is_flag=True, help="Replace a run folder censim wrote at --out.")
@click.option(
    "--quiet", is_flag=True, help="No progress bar, no summary: only where the results went."
)
@click.option(
    "--yes", is_flag=True, help="Run even if the estimated memory or disk exceeds what is free."
)
def run(
    scenario: str,
    seed: int | None,
    days: int | None,
    users: int | None,
    fixed: tuple[str, ...],
    out_dir: Path | None,
    force: bool,
    quiet: bool,
    yes: bool,
) -> None:
    """Run SCENARIO (a shipped name or a .toml path) with its no-rules counterfactual."""
    from simulator.engine.pairing import run as run_scenario
    from simulator.model.scenario import override

    loaded = load_scenario(scenario)
    if (
        fixed
    ):  # checked like the file's own fields (docs/scenarios.md); manifest.json records the result
        from simulator.experiments.designs import apply_fixed, parse_set

        changes: dict[str, object] = {}
        for text in fixed:
            name, value = parse_set(text)
            changes[name] = value
        loaded = apply_fixed(loaded, changes, source="--set")
    if users is not None:
        loaded = override(loaded, {"population.users": users}, source="--users")
    seed = loaded.seed if seed is None else seed
    target = out_dir or Path("runs") / f"{loaded.name}-seed{seed}"
    from simulator.output.folders import RUN, check_target, shown

    # Refuse a taken --out before the run, not after it (checked again when writing);
    # tidies what a killed earlier write left.
    check_target(target, RUN, force)
    _warn_late_entries(scenario, loaded, days or loaded.horizon_days)
    # First, so that the resource check's pilot run (large runs) finds the kernels compiled.
    _compile_ahead(loaded.population.users, loaded.rules.takedown.enabled, quiet)
    if not yes:  # before the run: one too big for this machine would fail hours in
        from simulator.experiments.resources import check_run

        check_run(override(loaded, {"horizon_days": days}) if days else loaded, target, seed=seed)
    results = run_scenario(loaded, seed=seed, days=days, progress=not quiet)
    written = results.write(target, force=force)
    if not quiet:
        click.echo("\n".join(_summary_lines(results.summary)))
    # Even --quiet says where the results went: a script's log needs it most. Every file
    # written is named (it used to name 5 of 13, as if they were all).
    names = sorted(p.name for p in Path(written).iterdir() if p.is_file())
    click.echo(f"wrote {len(names)} files in {shown(written)}/: {', '.join(names)}")


def _compile_ahead(users: int, rules: bool, quiet: bool) -> None:
    """A machine's first run: compile the kernels the run needs before it starts, and
    say so (simulator.engine.warmup; nothing to do once they are cached on disk)."""
    from simulator.engine import warmup
    from simulator.kernels.publishing import compiled_on_this_machine

    if quiet:
        warmup.compile_ahead(users, rules)
        return
    if not warmup.needed(users, rules) and compiled_on_this_machine():
        return
    click.echo("Compiling kernels (first run on this machine, once)...", err=True)
    seconds = warmup.compile_ahead(users, rules)
    if seconds:
        click.echo(f"Compiled in {seconds:.0f} s; cached on disk for the next runs.", err=True)


@main.command()
@click.argument("files", nargs=-1, required=True)
def validate(files: tuple[str, ...]) -> None:
    """Check scenario FILES (or shipped names) without running them."""
    failed = 0
    for name in files:
        try:
            scenario = load_scenario(name)
        except ScenarioError as error:
            failed += 1
            click.echo(printable(str(error)), err=True)
        else:
            click.echo(
                f"ok: {printable(name)} ({scenario.name}, {scenario.population.users:,} users, "
                f"{scenario.horizon_days} days)"
            )
            # Not an error: a shorter run of a longer scenario (--days) is legitimate.
            _warn_late_entries(name, scenario, scenario.horizon_days)
    if failed:
        sys.exit(ScenarioError.exit_code)


def _warn_late_entries(name: str, scenario: Scenario, horizon_days: int) -> None:
    """Warn (standard error) of each timeline entry that starts at or after the run's
    last day: it never applies in a run this long."""
    for entry in scenario.timeline:
        if entry.day >= horizon_days:
            click.echo(
                f"warning: {printable(name)}: timeline entry '{printable(entry.name)}' "
                f"starts on day {entry.day}, at or after the horizon "
                f"({horizon_days} days): it never applies in a run this long",
                err=True,
            )


@main.command(name="scenarios")
def list_scenarios() -> None:
    """List the shipped scenarios with a one-line description."""
    for name, path in shipped_scenarios().items():
        try:
            description = load_scenario(path).description
        except ScenarioError:
            description = "(does not validate: run `censim validate`)"
        click.echo(f"{name:<22} {description}")


@main.command()
@click.argument("scenario")
@click.option("--json", "as_json", is_flag=True, help="Print the resolved scenario as JSON.")
def show(scenario: str, as_json: bool) -> None:
    """Print SCENARIO resolved (defaults and `extends` filled in), with the source comments."""
    path, _ = read_scenario_dict(scenario)
    loaded = load_scenario(scenario)
    if as_json:
        click.echo(json.dumps(loaded.to_dict(), indent=2))
        return
    click.echo(f"# resolved from {path}")
    click.echo(_to_toml(loaded.to_dict()))
    comments = [line for line in path.read_text(encoding="utf-8").splitlines() if "#" in line]
    if comments:
        click.echo("# --- sources and assumptions, as written in the file ---")
        click.echo("\n".join(comments))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def _to_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Plain TOML for display (scalars first, then tables, arrays of tables as [[..]])."""
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for key, value in data.items():
        if (
            isinstance(value, dict)
            or isinstance(value, list)
            and value
            and all(isinstance(v, dict) for v in value)
            and key in ("platforms", "timeline", "groups")
        ):
            tables.append((key, value))
        elif value is None:
            continue  # TOML has no null: an unset optional field (its default applies)
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    out = "\n".join(lines)
    for key, value in tables:
        name = f"{prefix}{key}"
        if isinstance(value, list):
            for item in value:
                out += f"\n\n[[{name}]]\n" + _to_toml(item, prefix=f"{name}.")
        else:
            out += f"\n\n[{name}]\n" + _to_toml(value, prefix=f"{name}.")
    return out.strip("\n")


# ---------------------------------------------------------------------------------------
# Commands defined in their own modules (one module per concept) register here.
# Keep one line per command group; each module defines plain click commands.
from simulator.cli import experiments as cli_experiments  # noqa: E402

main.add_command(cli_experiments.sweep_command)
main.add_command(cli_experiments.sensitivity_command)
main.add_command(cli_experiments.sweep_plot_command)
main.add_command(cli_experiments.event_study_command)
main.add_command(cli_experiments.groups_command)
from simulator.cli import plots as cli_plots  # noqa: E402

main.add_command(cli_plots.plot_command)
main.add_command(cli_plots.compare_command)
from simulator.cli import frontier as cli_frontier  # noqa: E402

main.add_command(cli_frontier.frontier_command)
from simulator.cli import phases as cli_phases  # noqa: E402

main.add_command(cli_phases.phases_command)
from simulator.cli import facts as cli_facts  # noqa: E402

main.add_command(cli_facts.facts_command)
from simulator.cli import warmup as cli_warmup  # noqa: E402

main.add_command(cli_warmup.warmup_command)
from simulator.cli import attribution as cli_attribution  # noqa: E402

main.add_command(cli_attribution.attribute_command)

if __name__ == "__main__":  # pragma: no cover
    main()
