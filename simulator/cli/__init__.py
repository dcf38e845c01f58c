"""The ``censim`` program (docs/architecture.md, the ``cli`` layer; nothing else imports it).

- :mod:`~simulator.cli.console`: the entry point (``censim = simulator.cli.console:main``);
  installs the Ctrl-C handling before anything heavy is imported. This file therefore
  imports nothing.
- :mod:`~simulator.cli.main`: the command group and ``run``, ``validate``, ``scenarios``;
  ``python -m simulator.cli.main`` runs it without the console's handling.
- :mod:`~simulator.cli.experiments` (``sweep``, ``sensitivity``, ``sweep-plot``),
  :mod:`~simulator.cli.plots` (``plot``, ``compare``), :mod:`~simulator.cli.facts`,
  :mod:`~simulator.cli.warmup`: one module per command group.
"""
