"""Staff from a rate per 100,000 users (docs/model.md S6 "Staff", S12): the one rule that
turns ``reviewers_per_100k_users`` (and the police's ``investigators_per_100k_users``)
into full-time workers, used by the platforms, the police and the scenario's checks."""

from __future__ import annotations

#: Staff is counted to a millionth of a full-time worker, so a rate per 100,000 users
#: times a population that makes a whole number of workers gives exactly that number
#: (8.0, not 7.99999998 from 13.333333 x 60,000 / 100,000).
STAFF_DECIMALS = 6


def staff_for(rate_per_100k_users: float, users: float) -> float:
    """Full-time workers for ``users`` at ``rate_per_100k_users``:
    ``rate x users / 100,000``, counted to a millionth (``STAFF_DECIMALS``)."""
    return round(rate_per_100k_users * users / 100_000.0, STAFF_DECIMALS)
