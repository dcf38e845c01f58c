"""A package's public names imported on first use (PEP 562), so that importing the
package, or one of its modules, loads nothing else until a name is asked for. In the
package's ``__init__.py``: ``__getattr__, __dir__ = lazy_names(__name__, API, globals())``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    package: str, api: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``, whose public
    names are ``api`` (name -> the module defining it) and whose globals are
    ``namespace``: a name is imported from its module when first asked for, then kept
    in ``namespace`` (later lookups do not come here)."""

    def __getattr__(name: str) -> Any:
        if name not in api:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(api[name]), name)
        namespace[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *api])

    return __getattr__, __dir__
