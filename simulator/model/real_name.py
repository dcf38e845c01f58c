"""The real-name rule (docs/model.md, S13 "Real-name registration").

On the rule's first day (``rules.real_name.start_day``, or the day a timeline entry
turns it on) every active user ``i`` on platform ``p`` not yet registered draws, in
this order over those users (one vector per draw, from the behaviour stream):

- refuses with probability ``refusal_probability``; who does not refuse registers and
  becomes traceable (``traceable_i = 1``: the police identify them for certain, S12,
  and their perceived chance of detention is ``1 / identify_anonymous_probability``
  times an anonymous user's, S3);
- the platform enforces against a refuser with probability ``real_name_enforcement_p``;
- a refuser enforced against circumvents with probability ``circumvent_probability``
  (state CIRCUMVENTING), else is locked out (state EXCLUDED, reason
  ``refused_real_name``).

Newcomers of base turnover register the same way while the rule is in force
(:func:`simulator.kernels.sanctions.renew_slots`, S14). A timeline may lift the rule
(:meth:`simulator.model.sanctions.Sanctions.real_name_lifted`): refusers have the
service back, registered users stay traceable; if it comes back, only users not
registered are asked (on its first day nobody is).

Audits count the active users of a platform who are not traceable
(:func:`anonymous_active_users`, S10).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from simulator.kinds import ExclusionReason, UserState
from simulator.model.population import Users
from simulator.model.scenario import RealName


def register_users(
    users: Users,
    rule: RealName,
    enforcement: NDArray[np.float64],
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """Real-name registration of the active ``users`` not yet registered (the module's rule).
    ``enforcement``: each platform's ``real_name_enforcement`` probability. Returns the
    refusers the platform enforced against (ascending): with ``[access]`` they choose to
    stop or circumvent instead (docs/model.md S9a), after the same draws."""
    active = np.flatnonzero((users.state == UserState.ACTIVE) & ~users.traceable)
    refuses = rng.random(len(active)) < rule.refusal_probability
    enforced = rng.random(len(active)) < enforcement[users.platform[active]]
    circumvents = rng.random(len(active)) < rule.circumvent_probability
    users.traceable[active[~refuses]] = True
    locked_out = active[refuses & enforced]
    users.state[locked_out[circumvents[refuses & enforced]]] = UserState.CIRCUMVENTING
    excluded = locked_out[~circumvents[refuses & enforced]]
    users.state[excluded] = UserState.EXCLUDED
    users.excl_reason[excluded] = ExclusionReason.REFUSED_REAL_NAME
    users.states_changed()
    return locked_out.astype(np.int64)


def anonymous_active_users(users: Users, platform_index: int) -> int:
    """Active users of platform ``platform_index`` not registered under their real name."""
    mask = (users.platform == platform_index) & (users.state == UserState.ACTIVE) & ~users.traceable
    return int(mask.sum())
