"""Records of the posts a rule touched: held, flagged, noticed or ordered down.

Untouched posts are only counted (see :mod:`simulator.recorder`); a record exists only
where a platform or regulator has to act on one post, so memory grows with the speech
the rules touch, not with all speech. Columns are numpy arrays that grow by doubling.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

_COLUMNS: dict[str, tuple[Any, float | int | bool]] = {
    "time_hours": (np.float64, 0.0),  # when the author posted
    "published_hours": (np.float64, np.inf),  # when it went public (inf: not yet / never)
    "removed_hours": (np.float64, np.inf),  # when it came down (inf: still up)
    "blocked_hours": (np.float64, np.inf),  # when pre-publication review rejected it
    "order_hours": (np.float64, np.inf),  # when a regulator's order arrives (inf: none)
    "reviewer_score": (np.float32, 0.0),  # how prohibited it looks to a human reviewer
    "appeal_score": (np.float32, 0.0),  # how it looks to the reviewer of an appeal
    "author": (np.int64, 0),
    "day": (np.int32, 0),
    "platform": (np.int16, 0),
    "kind": (np.int8, 0),
    "channel": (np.int8, 0),
    "removed_by": (np.int8, -1),  # the review action that removed it (see Action)
}


class PostStore:
    """Column store of touched posts; row ``i`` is post id ``i``."""

    def __init__(self, capacity: int = 1024) -> None:
        self.size = 0
        self._capacity = capacity
        self.columns: dict[str, NDArray[Any]] = {
            name: np.full(capacity, fill, dtype=dtype) for name, (dtype, fill) in _COLUMNS.items()
        }

    def __getattr__(self, name: str) -> NDArray[Any]:
        # Columns read as attributes (store.removed_hours); only the live rows.
        columns = self.__dict__.get("columns")
        if columns is not None and name in columns:
            return columns[name]
        raise AttributeError(name)

    def append(self, **values: NDArray[Any]) -> NDArray[np.int64]:
        """Add rows (every given array has the same length); returns their post ids."""
        count = len(next(iter(values.values())))
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"unknown post columns: {sorted(unknown)}")
        self._reserve(self.size + count)
        ids = np.arange(self.size, self.size + count, dtype=np.int64)
        for name, array in values.items():
            self.columns[name][ids] = array
        self.size += count
        return ids

    def _reserve(self, needed: int) -> None:
        if needed <= self._capacity:
            return
        capacity = max(needed, 2 * self._capacity)
        for name, (dtype, fill) in _COLUMNS.items():
            grown = np.full(capacity, fill, dtype=dtype)
            grown[: self.size] = self.columns[name][: self.size]
            self.columns[name] = grown
        self._capacity = capacity

    def memory_bytes(self) -> int:
        return int(sum(column.nbytes for column in self.columns.values()))
