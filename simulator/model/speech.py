"""Users' speech as a decision: expected utility per post, beliefs learned per user
(docs/model.md S3 "Speech choice" and S16 "Perceived probabilities").

The readable statement of the rules; the compiled passes in
:mod:`simulator.kernels.choice` compute the same, and tests/test_users_statement.py
compares the two. Kinds are indexed as :class:`simulator.kinds.ContentKind` (0 benign,
1 critical, 2 collective action, 3 unlawful); sanctions ``m`` as :data:`REMOVAL`,
:data:`DETENTION`.

Choice (Daymude, Axelrod & Forrest 2025, B2; deterrence with diminishing returns to
severity, Nagin 2013, B1). For a post of kind ``k`` on channel ``c``, user ``i`` weighs
the menu ``j`` in {post ``k``, soften to ``soft(k)``, withhold}:

    U_ij = beta_i * D_i * a_j - M * Gamma_ik * sum_m A[c, j, m] * p_ijm * S_im,   U_withhold = 0

and takes the best option, ties going to the more intense one (as B2's closed forms do).
``a_j`` is the kind's intensity, ``beta_i`` boldness (mean 1), ``D_i`` desire
``(stance_i / mean stance) ** gamma``, ``A`` whether the law can sanction kind ``j`` on
channel ``c`` with ``m`` (0 or 1), ``p_ijm`` the perceived probability, ``S_im`` the
cost: a removal ``c_rm + V_acct * (b_i + (1 - b_i) * l) / max(1, K_p - strikes_i)``
(``b_i`` the chance the closure's ban follows the person, ``l`` what a closure costs
one who registers anew), a detention of ``D`` days ``c_det * ln(1 + D / d0)``
(:func:`detention_cost`). ``M = (u / (1 - u)) ** lambda`` is the post's choice noise
(``u`` uniform), ``Gamma_ik = max(0, 1 + kappa * (1 - O_ik / E_ik))`` the climate
(spiral of silence: Noelle-Neumann 1974, Stoycheff 2016, Matthes et al. 2018; B3, B7,
B8; off when ``kappa = 0``).

Beliefs (a Beta posterior per user, kind and sanction with shared trials, decaying to
the prior with a half-life):

    p_ikm = (alpha0_km + E_ikm + N_km) / (n0 + T_ik + N_kT)

``E`` decayed evidence (own and friends' sanctions), ``T`` decayed trials (own posts,
the public posts friends actually said), ``N`` the news, ``alpha0 = n0 * prior_m`` for a
prohibited kind and ``n0 * prior_m * q_k`` for a lawful one (``q_k`` the line
probability). Sanctions that need the person reach an identifiable user more often: a
detention belief is about a typical (anonymous) user and a traceable user scales it by
``iota_i`` (real names raise identification); a closed account's ban follows a
traceable user where the platform checks identities (``b_i``, :func:`account_loss`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Menu options, in decreasing intensity (the order ties are broken in).
POST, SOFTEN, WITHHOLD = 0, 1, 2
#: Sanctions a user weighs.
REMOVAL, DETENTION = 0, 1
N_SANCTIONS = 2
#: Phases of a decision (B2): nothing at stake, softened, withheld, posted at risk.
COMPLIANT, PARTLY_SELF_CENSORING, FULLY_SELF_CENSORING, DEFIANT = 0, 1, 2, 3
PHASE_LABELS = ("compliant", "partly self-censoring", "fully self-censoring", "defiant")
#: The softer kind of each kind (-1: none). A call to act (2) softened becomes criticism
#: (1): the same grievance said as a complaint. Criticism and unlawful posts (3: spam,
#: fraud, pornography, rumours, incitement) can only be said or withheld: an unlawful
#: post has no political core to keep, and softening it into criticism manufactured
#: political speech out of spam (an independent review, docs/validation.md defect 6).
SOFTER_KIND = (-1, -1, 1, -1)


def detention_cost(days: float | FloatArray, cost: float, scale_days: float) -> FloatArray:
    """What a detention of ``days`` costs a user, in utility units:
    ``cost * ln(1 + days / scale_days)``. Concave in ``days``: severity has diminishing
    returns (B1), so at equal ``probability * days`` certainty deters more."""
    return np.asarray(cost * np.log1p(np.asarray(days, dtype=float) / scale_days))


def account_loss(
    account_value: float, ban_follows: float | FloatArray, reregistered_loss: float
) -> FloatArray:
    """What a closed account costs its user: ``V_acct * (b + (1 - b) * l)``, all of it
    when the ban follows the person (probability ``b``: the identity is burned), the
    share ``l`` when they can register anew."""
    b = np.asarray(ban_follows, dtype=float)
    return np.asarray(account_value * (b + (1.0 - b) * reregistered_loss))


def removal_cost(
    strikes: int | NDArray[np.integer],
    strikes_to_close: int,
    cost: float,
    account_value: float,
    ban_follows: float | FloatArray = 1.0,
    reregistered_loss: float = 1.0,
) -> FloatArray:
    """What a removal costs: ``cost + account_loss / max(1, strikes_to_close -
    strikes)``, the removal itself and its share of the closure the strikes lead to
    (:func:`account_loss`; all of the account by default)."""
    left = np.maximum(1, strikes_to_close - np.asarray(strikes, dtype=np.int64))
    return np.asarray(cost + account_loss(account_value, ban_follows, reregistered_loss) / left)


def choice_noise(u: float | FloatArray, exponent: float) -> FloatArray:
    """The mood multiplier on a post's felt cost, ``(u / (1 - u)) ** exponent`` (median 1;
    1 for every ``u`` when ``exponent`` is 0). ``u`` is clipped into (0, 1)."""
    u = np.clip(np.asarray(u, dtype=float), 1e-12, 1.0 - 1e-12)
    if exponent == 0.0:
        return np.ones_like(u)
    return np.asarray(np.exp(exponent * (np.log(u) - np.log1p(-u))))


def climate_multiplier(weight: float, observed: FloatArray, expected: FloatArray) -> FloatArray:
    """Spiral of silence (B3, B7, B8): ``max(0, 1 + weight * (1 - observed / expected))``;
    1 where nothing is expected. Friends saying less than expected raise the felt cost,
    saying more lower it; linear in ``observed``, so chance ups and downs of the
    friends' posts average out rather than count as silence."""
    observed = np.asarray(observed, dtype=float)
    expected = np.asarray(expected, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        short = np.where(expected > 0, 1.0 - observed / expected, 0.0)
    return np.asarray(np.maximum(0.0, 1.0 + weight * short))


def prior_alpha(
    prohibited: NDArray[np.bool_] | list[bool],
    line_probability: FloatArray | list[float],
    prior: FloatArray | list[float],
    prior_trials: float,
) -> FloatArray:
    """The Beta prior's successes per sanction and kind (2 x 4): ``n0 * prior_m`` for a
    prohibited kind, ``n0 * prior_m * q_k`` for a lawful one, 0 for benign."""
    prohibited = np.asarray(prohibited, dtype=bool)
    q = np.where(prohibited, 1.0, np.asarray(line_probability, dtype=float))
    q[0] = 0.0
    return np.asarray(prior_trials * np.outer(np.asarray(prior, dtype=float), q))


def perceived_probability(
    alpha0: float | FloatArray,
    prior_trials: float,
    evidence: float | FloatArray,
    trials: float | FloatArray,
    news_evidence: float | FloatArray = 0.0,
    news_trials: float | FloatArray = 0.0,
) -> FloatArray:
    """Posterior mean of a Beta belief: ``(alpha0 + E + N_E) / (n0 + T + N_T)``."""
    return np.asarray(
        (alpha0 + np.asarray(evidence) + news_evidence)
        / (prior_trials + np.asarray(trials) + news_trials)
    )


def decayed(value: float | FloatArray, half_life_days: float, days: int | FloatArray) -> FloatArray:
    """Evidence ``days`` days later without new events: ``value * 0.5 ** (days / h)``."""
    return np.asarray(np.asarray(value) * 0.5 ** (np.asarray(days) / half_life_days))


def utilities(
    value: float | FloatArray,
    intensity: FloatArray,
    expected_cost: FloatArray,
    noise: float | FloatArray = 1.0,
) -> FloatArray:
    """``U_j = value * a_j - noise * cost_j`` for each menu option (last axis): ``value``
    is ``beta_i * D_i``, ``expected_cost`` the climate-weighted ``sum_m A p S``."""
    value = np.asarray(value, dtype=float)[..., None]
    noise = np.asarray(noise, dtype=float)[..., None]
    return np.asarray(value * np.asarray(intensity) - noise * np.asarray(expected_cost))


def choose(utility: FloatArray) -> NDArray[np.int64]:
    """The option with the highest utility (last axis, options in decreasing intensity);
    on a tie the first, i.e. the more intense."""
    return np.asarray(np.argmax(np.asarray(utility), axis=-1), dtype=np.int64)


def post_choice(
    value: float | FloatArray,
    intensity: tuple[float, float],
    cost_post: float | FloatArray,
    cost_soft: float | FloatArray,
    noise: float | FloatArray = 1.0,
    can_soften: bool = True,
) -> NDArray[np.int64]:
    """:data:`POST`, :data:`SOFTEN` or :data:`WITHHOLD` for posts whose kind has
    intensity ``intensity[0]`` and its softer kind ``intensity[1]``, with expected costs
    ``cost_post``/``cost_soft`` (before noise). Without a softer kind the menu is {post,
    withhold}."""
    cost_post = np.asarray(cost_post, dtype=float)
    cost_soft = np.asarray(cost_soft, dtype=float)
    shape = np.broadcast(np.asarray(value), cost_post, cost_soft, np.asarray(noise)).shape
    costs = np.zeros(shape + (3,))
    costs[..., POST] = cost_post
    costs[..., SOFTEN] = cost_soft if can_soften else np.inf
    a = np.array([intensity[0], intensity[1] if can_soften else 0.0, 0.0])
    u = utilities(np.broadcast_to(value, shape), a, costs, np.broadcast_to(noise, shape))
    if not can_soften:
        u[..., SOFTEN] = -np.inf
    return choose(u)


def phase(choice: NDArray[np.int64], at_stake: NDArray[np.bool_]) -> NDArray[np.int64]:
    """B2's phases per decision: :data:`COMPLIANT` when nothing the post could bring is
    sanctionable (``at_stake`` false) and it was posted; else softened is partly,
    withheld fully self-censoring, posted defiant."""
    choice = np.asarray(choice)
    out = np.where(
        choice == POST,
        np.where(np.asarray(at_stake), DEFIANT, COMPLIANT),
        np.where(choice == SOFTEN, PARTLY_SELF_CENSORING, FULLY_SELF_CENSORING),
    )
    return np.asarray(out, dtype=np.int64)


#: The news reports detentions per this many users (a national rate): the simulated
#: users are a sample of the country, so the news they hear must not depend on the
#: sample's size.
NEWS_PER_USERS = 100_000.0


def update_news(
    news: FloatArray,
    decay: float,
    detained_by_kind: FloatArray,
    users: int,
    case_weight: float,
    visibility: float,
    publicised: FloatArray | None = None,
) -> None:
    """One day of news (in place; ``news`` is 3 x 4: removal evidence, detention evidence,
    trials per kind). The news reports cases, not rates: the day's detentions for each
    kind per 100,000 users, ``c_k = D_k * 100,000 / users``, each counted (as far as users
    see enforcement, ``visibility``) as ``case_weight`` posts that were punished, since
    the news reports the punished and not the many who spoke unpunished (availability:
    publicised rare events are judged frequent: B13 in docs/references.md):
    ``N_det <- rho N_det + v (w c_k + x_k)`` and ``N_T <- rho N_T + v (w c_k + x_k)``,
    with ``x_k`` (``publicised``) the punished posts a day the news carries beyond the
    simulated cases. Without cases the news fades (``rho``) and says nothing. Removals
    are not news."""
    detained = np.asarray(detained_by_kind, dtype=float)
    cases = case_weight * detained * (NEWS_PER_USERS / max(1, users))
    if publicised is not None:
        cases = cases + np.asarray(publicised, dtype=float)
    cases = visibility * cases
    news *= decay
    news[DETENTION] += cases
    news[2] += cases
    news[:, 0] = 0.0  # benign carries no risk


def friends_trials(
    indptr: NDArray[np.integer],
    indices: NDArray[np.integer],
    said_by_kind: NDArray[np.integer],
    weight: float,
) -> FloatArray:
    """Trials a user gets from one day of friends' public posts of each sensitive kind,
    ``weight * sum_{j in N(i)} said_j(k)`` (users x 3): what the friends actually said
    (posted or softened into the kind), so a friend who withholds adds no trial."""
    n = len(indptr) - 1
    out = np.zeros((n, said_by_kind.shape[1]))
    rows = np.repeat(np.arange(n), np.diff(indptr))
    np.add.at(out, rows, said_by_kind[indices])
    return np.asarray(weight * out)
