"""``censim warmup``: compile the engine's kernels now, once per machine (simulator.engine.warmup).

A fresh install compiles them on its first run anyway (before the run starts, on two
CPUs where there are); this command does it up front, for a class's machines, a
container image or a benchmark that should time runs, not compiling.
"""

from __future__ import annotations

import click


@click.command(name="warmup")
@click.option(
    "--large",
    is_flag=True,
    help="Also the kernels only runs of 200,000 users or more call (their second thread).",
)
def warmup_command(large: bool) -> None:
    """Compile the engine's kernels now (once per machine; cached on disk)."""
    from simulator.engine import warmup

    profiles = set(warmup.PROFILES) if large else {"rules-small", "free-small"}
    missing = warmup.needed(0, True, profiles=profiles)
    if not missing:
        click.echo("Kernels already compiled and cached on this machine.")
        return
    click.echo(f"Compiling {len(missing)} kernels (once per machine)...")
    seconds = warmup.compile_ahead(0, True, profiles=profiles)
    click.echo(f"Compiled in {seconds:.0f} s; cached on disk.")
    left = warmup.needed(0, True, profiles=profiles)
    if left:  # a stale plan or a helper that died: those compile on first use
        click.echo(f"{len(left)} kernels could not be compiled ahead: they compile on first use.")
