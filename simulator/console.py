"""The ``censim`` program's entry point (``simulator.console:main``).

It installs the program's Ctrl-C handling (:mod:`simulator.interrupts`) before anything
heavy is imported, then runs the command line (:mod:`simulator.cli`). Nothing but this
module imports the command line: the layers below it never reach up to it
(docs/architecture.md).
"""

from __future__ import annotations

from simulator import interrupts


def main() -> None:
    """``censim`` (the console script)."""
    interrupts.install()
    from simulator.cli import main as command

    command(prog_name="censim")


if __name__ == "__main__":  # pragma: no cover
    main()
