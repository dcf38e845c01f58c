"""What counting the decisions by phase costs the compiled choice (docs/performance.md,
"Counting phases"): :func:`simulator.kernels.choice.choose_posts` on 2,000,000 posts by
1,000,000 users with the phase counts and without (empty ``phase_counts``: nothing is
counted), truth as the perception, so no belief row is read and the counting's share is
as large as it can be.

    PYTHONPATH=. python benchmarks/bench_phase_counting.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.kernels import choice as uk  # noqa: E402
from simulator.model import speech as um  # noqa: E402
from simulator.output.phases import empty_counts, user_cells  # noqa: E402

USERS, POSTS, ROUNDS = 1_000_000, 2_000_000, 7


def main() -> None:
    rng = np.random.default_rng(1)
    authors = rng.integers(0, USERS, POSTS).astype(np.int64)
    law = np.zeros((4, 2))
    law[1:, :] = 1.0
    truth = np.zeros((1, 4, 2))
    truth[0, 1:, :] = 0.02
    par = np.zeros(uk.N_PAR)
    par[uk.PAR_DETENTION_COST] = 30.0
    par[uk.PAR_REMOVAL_COST] = 0.05
    par[uk.PAR_IOTA_ANONYMOUS] = par[uk.PAR_IOTA_TRACEABLE] = 1.0
    cells = user_cells(rng.random(USERS), rng.random(USERS))

    def inputs(count: bool) -> uk.SpeechInputs:
        base = uk.SpeechInputs(
            np.stack([law, law]), np.array([0.0, 0.4, 1.0, 0.7]), np.array(um.SOFTER_KIND),
            np.zeros(USERS, dtype=np.int16), np.array([16]), np.zeros((1, 2)),
            np.zeros(USERS, dtype=bool), uk.decay_table(30.0, 1), np.zeros((2, 4)),
            np.zeros((3, 4)), par, truth,
        )  # fmt: skip
        return base._replace(cell=cells, phase_counts=empty_counts()) if count else base

    mood = rng.random(POSTS)
    value = (2 * rng.random(POSTS)).astype(np.float32)
    route = np.zeros(USERS, dtype=np.int64)
    home = np.zeros(USERS, dtype=np.int16)
    times = np.zeros(POSTS)
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for count in (False, True):  # compile both
        uk.choose_posts(authors, times, mood, value, route, home, 1, 2, 0, inputs(count),
                        uk.empty_beliefs(), 0)  # fmt: skip
    for _ in range(ROUNDS):
        for count in (False, True):
            given = inputs(count)
            started = time.perf_counter()
            uk.choose_posts(authors, times, mood, value, route, home, 1, 2, 0, given,
                            uk.empty_beliefs(), 0)  # fmt: skip
            seconds[count].append(time.perf_counter() - started)
    for count, label in ((False, "without counting"), (True, "with counting")):
        print(f"{label:17} min {1e3 * min(seconds[count]):.1f} ms, "
              f"median {1e3 * float(np.median(seconds[count])):.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
