"""censim's version (the same as ``version`` in pyproject.toml).

A module of its own so that any layer can read it without importing the package's API
(``simulator/__init__``), which sits above them all (docs/architecture.md).
"""

__version__ = "0.1.0"
