"""What the regulator's audits read of a run (docs/model.md, S10 "Audits"): the
prohibited posts published per platform and hour, and which of them are still up.

Every published prohibited post is counted in its platform's
``published_prohibited_by_hour`` bin; those that have a record (a rule touched them)
are also listed here by id, so an audit at ``tau`` counts
``up = published in [floor(tau - 24 W), floor(tau)] - those of them removed by tau``
without scanning the whole post store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from simulator.engine.post_store import IntArray, PostStore
from simulator.kinds import Outcome
from simulator.model.platforms import PlatformState
from simulator.model.regulator import HOURS_PER_DAY
from simulator.model.views import Renumbering


class ProhibitedPosts:
    """Record ids of prohibited posts per platform, in id order (chunks joined lazily),
    and the hourly counts of published prohibited posts. Holds post ids: registers
    with the store."""

    def __init__(
        self,
        platforms: Sequence[PlatformState],
        posts: PostStore,
        horizon_days: int,
        audit_window_days: float,
    ) -> None:
        self.platforms = platforms
        self.posts = posts
        self.horizon_days = horizon_days
        self.audit_window_days = audit_window_days
        self.ids: list[list[IntArray]] = [[] for _ in platforms]
        posts.register(self)

    def add_ids(self, p: int, ids: IntArray) -> None:
        """Records ``ids`` (ascending, after those listed) are prohibited posts on ``p``."""
        self.ids[p].append(ids)

    def add_by_hour(self, platform: PlatformState, start_hour: int, by_hour: IntArray) -> None:
        """Add published prohibited posts counted by hour from ``start_hour``."""
        seen = np.flatnonzero(by_hour)
        if len(seen) == 0:
            return
        last = int(seen[-1]) + 1
        self._grow(platform, start_hour + last)
        platform.published_prohibited_by_hour[start_hour : start_hour + last] += by_hour[:last]

    def count_published(self, platform: PlatformState, times: NDArray[np.float64]) -> None:
        """Count prohibited posts published on ``platform`` at ``times`` (hours)."""
        hours = np.floor(times).astype(np.int64)
        if len(hours) == 0:
            return
        self._grow(platform, int(hours.max()) + 1)
        np.add.at(platform.published_prohibited_by_hour, hours, 1)

    def _grow(self, platform: PlatformState, needed: int) -> None:
        counts = platform.published_prohibited_by_hour
        if len(counts) < needed:
            grown = np.zeros(max(needed, self.horizon_days * 24 + 24), dtype=np.int64)
            grown[: len(counts)] = counts
            platform.published_prohibited_by_hour = grown

    def still_up(self, platform: PlatformState, since: float, now: float) -> int:
        """Prohibited posts published on ``platform`` in [since, now] and still up at ``now``."""
        counts = platform.published_prohibited_by_hour
        first, last = int(math.floor(since)), int(math.floor(now))
        published = int(counts[first : last + 1].sum()) if len(counts) else 0
        posts = self.posts
        # Only this platform's prohibited records, not every record of the run.
        chunks = self.ids[platform.index]
        if len(chunks) > 1:
            chunks[:] = [np.concatenate(chunks)]
        if not chunks:
            return max(0, published)
        ids = chunks[0]
        pub = posts.published_hours[ids]
        mask = (pub >= first) & (pub < last + 1) & (posts.removed_hours[ids] <= now)
        return max(0, published - int(mask.sum()))

    # -- the post ids it holds (see HoldsPostIds) ------------------------------------------
    def live_post_ids(self, day: int) -> Iterable[IntArray]:
        """Prohibited posts an audit from day ``day`` on may count as still up: those
        published at or after the earliest hour such an audit's window reads (a post
        never published is never counted)."""
        window = self.audit_window_days * HOURS_PER_DAY
        first_hour = math.floor(max(0.0, day * HOURS_PER_DAY - window))
        held = []
        for chunks in self.ids:
            if chunks:
                chunks[:] = [np.concatenate(chunks)]
                published = self.posts.published_hours[chunks[0]]
                held.append(chunks[0][(published >= first_hour) & (published < math.inf)])
        return held

    def renumber_post_ids(self, renumber: Renumbering) -> None:
        for chunks in self.ids:
            if chunks:
                # Prohibited records freed are ones no audit will count: drop them too.
                chunks[:] = [renumber.surviving(chunks[0])]


def published_in_window(
    counts: NDArray[np.int64],
    in_scope: NDArray[np.bool_],
    platform: PlatformState,
    since: float,
    now: float,
) -> float:
    """The posts an audit draws its sample from (docs/model.md S10): posts on ``platform``
    on a moderated channel that were published (REMOVED or SURVIVING in the outcome
    table; a held post blocked never was), per day over the whole days of [since, now]
    before the audit's own day (the day cells ``⌊since/24⌋ … ⌊now/24⌋ − 1``), times the
    window's length in days; 0 before a whole day has passed. Per day, so the sample's
    share of prohibited posts (counted to the hour) is what the platform expects from its
    posts per day (S8); whole days, so a day still being written is not half counted."""
    first = int(math.floor(since / HOURS_PER_DAY))
    last = min(int(math.floor(now / HOURS_PER_DAY)), counts.shape[0]) - 1
    channels = np.flatnonzero(in_scope)
    if last < first or len(channels) == 0 or now <= since:
        return 0.0
    cells = counts[first : last + 1, platform.index][:, channels, :, :]
    published = int(cells[..., Outcome.REMOVED].sum() + cells[..., Outcome.SURVIVING].sum())
    return published / (last + 1 - first) * (now - since) / HOURS_PER_DAY
