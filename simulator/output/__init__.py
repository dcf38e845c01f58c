"""Counting a run and writing it (docs/architecture.md, the ``output`` layer: below the
engine, which fills these in).

- :mod:`~simulator.output.recorder`: the counts a run makes as it goes (``Recorder``);
- :mod:`~simulator.output.metrics`: the tables and headline numbers computed from them
  (docs/metrics.md);
- :mod:`~simulator.output.results`: ``Results``, a run's tables, read and written;
- :mod:`~simulator.output.folders`: publishing the folders censim writes in one rename
  (and the public names of the next two);
- :mod:`~simulator.output.folder_checks`: which folders censim wrote, what each holds,
  when one may be replaced;
- :mod:`~simulator.output.staging`: staging and trash folders, the lock on their parent,
  recovering a killed writer's.

Whole files are written through :mod:`simulator.files` (atomically, or flushed inside a
folder published whole).
"""
