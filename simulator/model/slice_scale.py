"""What a simulated slice of users stands for in money (docs/model.md S8, "Scale-free").

A run simulates ``population.users`` users: a sample of the platforms' users, whose size
sets how finely the model resolves them, not how large the world is. The world's size is
``population.represented_users`` (default: the ``population.users`` the scenario file
states, so a shipped scenario run at its own size is unchanged). Everything a platform
weighs is stated for the represented population: fixed fines, the cost of a warning, a
licence's ``value``, its ``initial_cash``. The money that flows with the users simulated,
revenue (``active_users × revenue_per_user_day``) and the wage bill (review staff, sized
per 100,000 users, times ``reviewer_cost_per_day``), is scaled up to it:

    money of the represented platform = money of the slice × N_represented / N_simulated

so a suspension (days of revenue), a turnover fine (a share of a year's revenue), a
platform's cash and its wages weigh the same against a fixed fine at 5,000 or 500,000
simulated users, and neither its threshold nor its staffing choice depends on the size
of the sample (before: a slice of 5,000 users of a 100,000-user scenario weighed its
reviewers twenty times cheaper against the same licence; a session 14 referee's finding).
Money outputs (``cash``, ``fines_paid``, ``moderation_cost``) are the represented
platform's.

A scenario built in code without ``represented_users`` (not read from a file) stands for
itself: the scale is 1 at any size.
"""

from __future__ import annotations

#: Most users a scenario may have (and ``--users`` may set).
MAX_USERS = 50_000_000

#: Most users a scenario may say it stands for (``population.represented_users``): more
#: than the world's internet users.
MAX_REPRESENTED_USERS = 10_000_000_000

#: The command line's help for ``--users`` (every command that takes it).
USERS_HELP = (
    "Users to simulate: the sample, not the world (money stays that of "
    "population.represented_users, the scenario's own users unless it says otherwise)."
)


def money_scale(users: int, represented_users: int | None) -> float:
    """``N_represented / N_simulated``: what one currency unit of the slice's revenue or
    wages is for the platform the scenario stands for (dimensionless; 1 when the
    scenario does not say what it represents). Arguments: ``scenario.population``'s
    ``users`` and ``represented_users``."""
    if represented_users is None:
        return 1.0
    return represented_users / users
