"""``censim facts``: the shipped China scenarios against the published record."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="facts")
@click.option(
    "--reps",
    type=click.IntRange(2, 1000),
    default=10,
    show_default=True,
    help="Replications per scenario (independent seeds).",
)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=2013, show_default=True)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the table as CSV (or Markdown if it ends in .md).",
)
def facts_command(reps: int, seed: int, out_file: Path | None) -> None:
    """Check the China scenarios against the published record: target, simulated mean with
    its 95% interval, and whether the mean is inside the tolerance.

    \b
    The facts (full citations in docs/references.md, how each is computed and which
    parameters were fitted in docs/validation.md, both in the censim repository):
      C1  King, Pan & Roberts 2013, APSR 107(2): collective action censored, criticism not
      C2  Zhu et al. 2013, USENIX Security: about 5% / 30% / 90% of deletions within
          8 minutes / 30 minutes / 24 hours
      C3  Bamman, O'Connor & Smith 2012, First Monday 17(3): 16.25% of public posts deleted
      C4  King, Pan & Roberts 2014, Science 345: about 40% of posts held for review,
          over half of them never published

    \b
    The column role says whether a parameter was fitted to the fact (fit: declared in
    simulator.experiments.facts.FITS, re-fitted by benchmarks/fit_parameters.py) or the
    fact is held out (check: fitted to nothing); replications_inside counts the
    replications inside the tolerance on their own.
    """
    # Imported here: scipy.stats is slow to import and only this command needs it (and
    # tqdm.auto imports asyncio: ~30 ms every other command would pay).
    from tqdm.auto import tqdm

    from simulator.errors import OutputError
    from simulator.experiments.facts import FACTS, check_facts, facts_table, markdown_table
    from simulator.files import atomic_write_bytes
    from simulator.output.folder_checks import check_file_target, shown

    if out_file is not None:  # before the runs: a name that cannot be written fails now
        check_file_target(out_file, new=True, option="--out")
        if not out_file.parent.is_dir():
            raise OutputError(
                f"--out {shown(out_file)}: the folder {shown(out_file.parent)} does not exist"
            )
    runs = reps * len({fact.scenario for fact in FACTS})
    with tqdm(total=runs, desc="facts", unit="run", leave=False) as bar:

        def step(message: str) -> None:
            bar.set_postfix_str(message)
            bar.update(1)

        results = check_facts(replications=reps, seed=seed, progress=step)
    table = facts_table(results)
    printed = table.drop(columns=["source"])
    click.echo(printed.to_string(index=False))
    inside = int(table["inside"].sum())
    fits = table[table["role"] == "fit"]
    checks = table[table["role"] == "check"]
    click.echo(
        f"{inside} of {len(table)} facts inside their tolerance ({reps} replications, seed "
        f"{seed}): {int(fits['inside'].sum())} of {len(fits)} fit targets, "
        f"{int(checks['inside'].sum())} of {len(checks)} checks"
    )
    if out_file is not None:
        text = (
            markdown_table(table) + "\n" if out_file.suffix == ".md" else table.to_csv(index=False)
        )
        try:
            atomic_write_bytes(check_file_target(out_file, new=True, option="--out"), text.encode())
        except OSError as error:
            raise OutputError(f"--out {shown(out_file)}: cannot write ({error.strerror})") from None
