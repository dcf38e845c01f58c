"""Speech choice and learned beliefs without a Simulation: the statement functions
(simulator.model.speech), the compiled kernels (simulator.kernels.choice), the Daymude et
al. oracle, and the deterrence properties the issue asks for (docs/model.md S3, S16)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.kernels import choice as uk
from simulator.kernels import learning
from simulator.model import speech as um
from tests.oracle_daymude import dpro, duni, opt_actions

C, A, U = 1, 2, 3
INTENSITY = np.array([0.0, 0.4, 1.0, 0.7])
SOFTER = np.array(um.SOFTER_KIND, dtype=np.int64)


def par(
    detention_cost: float = 1.0,
    noise: float = 0.0,
    removal_cost: float = 0.05,
    account_value: float = 0.0,
    iota: tuple[float, float] = (1.0, 1.0),
    prior_trials: float = 2.0,
    climate: float = 0.0,
    reregistered_loss: float = 1.0,
) -> np.ndarray:
    out = np.zeros(uk.N_PAR)
    out[uk.PAR_PRIOR_TRIALS] = prior_trials
    out[uk.PAR_REMOVAL_COST] = removal_cost
    out[uk.PAR_ACCOUNT_VALUE] = account_value
    out[uk.PAR_DETENTION_COST] = detention_cost
    out[uk.PAR_NOISE] = noise
    out[uk.PAR_CLIMATE] = climate
    out[uk.PAR_IOTA_ANONYMOUS], out[uk.PAR_IOTA_TRACEABLE] = iota
    out[uk.PAR_REREGISTERED_LOSS] = reregistered_loss
    return out


def law(*entries: tuple[int, int]) -> np.ndarray:
    """A channel's applicability table (kinds x 2) with 1 at each (kind, sanction)."""
    table = np.zeros((4, 2))
    for kind, sanction in entries:
        table[kind, sanction] = 1.0
    return table


def run_choice(
    kind: int,
    value: np.ndarray,
    table: np.ndarray,
    parameters: np.ndarray,
    truth: np.ndarray | None = None,
    noise: np.ndarray | None = None,
    beliefs: uk.Beliefs | None = None,
    alpha0: np.ndarray | None = None,
    news: np.ndarray | None = None,
    intensity: np.ndarray = INTENSITY,
    traceable: np.ndarray | None = None,
    day: int = 0,
    decay: np.ndarray | None = None,
    ban_follows: tuple[float, float] = (1.0, 1.0),
    strikes: np.ndarray | None = None,
    channel: int = 0,
) -> np.ndarray:
    """One post of ``kind`` per user, all on platform 0: each post's choice (0 post,
    1 soften, 2 withhold)."""
    n = len(value)
    authors = np.arange(n, dtype=np.int64)
    if beliefs is None:
        beliefs = uk.empty_beliefs()
    if decay is None:
        decay = uk.decay_table(30.0, 400)
    tables = [table, np.zeros((4, 2))]
    inputs = uk.SpeechInputs(
        np.stack(tables if channel == 0 else tables[::-1]),
        intensity,
        SOFTER,
        np.zeros(n, dtype=np.int16) if strikes is None else strikes.astype(np.int16),
        np.array([5], dtype=np.int64),
        np.array([ban_follows]),
        np.zeros(n, dtype=bool) if traceable is None else traceable,
        decay,
        np.zeros((2, 4)) if alpha0 is None else alpha0,
        np.zeros((3, 4)) if news is None else news,
        parameters,
        np.zeros((0, 4, 2)) if truth is None else truth,
    )
    out = uk.choose_posts(
        authors,
        np.linspace(0.0, 24.0, n),
        np.ones(n) if noise is None else um.choice_noise(noise, parameters[uk.PAR_NOISE]),
        value.astype(np.float32),
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int16),
        1,
        kind,
        channel,
        inputs,
        beliefs,
        day,
    )
    choice = np.full(n, um.WITHHOLD)
    choice[out[5]] = um.POST
    choice[out[8]] = um.SOFTEN
    assert out[3][0] + out[4][0] + len(out[5]) == n  # withheld + softened + posted
    return choice


def truth_table(kind: int, removal: float = 0.0, detention: float = 0.0) -> np.ndarray:
    truth = np.zeros((1, 4, 2))
    truth[0, kind] = removal, detention
    return truth


# -- the oracle (Daymude, Axelrod & Forrest 2025) ---------------------------------------

BETAS = np.linspace(0.2, 3.0, 15)
NUS = (0.0, 0.1, 0.3, 0.6, 0.9)
PSIS = np.linspace(0.2, 5.0, 15)


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_choice_equals_daymude_uniform_punishment_on_a_grid() -> None:
    """With perception equal to the truth and no noise, one desire (D_i = 1), detention
    as the only sanction of a call to act, severity psi and P(punished | a) = nu + (1 -
    nu) a, censim's choice between a call to act (intensity delta), criticism (tau,
    lawful) and silence is B2's optimal action under uniform punishment, cell by cell."""
    checked = 0
    kinds_seen = set()
    for tau in (0.2, 0.4):
        for delta in np.linspace(tau + 0.013, 1.0, 20):
            intensity = INTENSITY.copy()
            intensity[C], intensity[A] = tau, delta
            for nu in NUS:
                for psi in PSIS:
                    # Avoid exact ties at the boundary (floating point decides those).
                    near = np.abs(delta - duni(BETAS, nu, tau, psi)) < 1e-9
                    betas = BETAS[~near]
                    expected = opt_actions(
                        np.full(len(betas), delta), betas, nu, "uniform", tau, psi
                    )
                    choice = run_choice(
                        A,
                        betas,
                        law((A, um.DETENTION)),
                        par(detention_cost=psi),
                        truth=truth_table(A, detention=nu + (1 - nu) * delta),
                        intensity=intensity,
                    )
                    acted = np.where(
                        choice == um.POST, delta, np.where(choice == um.SOFTEN, tau, 0.0)
                    )
                    np.testing.assert_array_equal(acted, expected)
                    kinds_seen.update(choice.tolist())
                    checked += len(betas)
    assert checked > 40_000
    assert kinds_seen == {um.POST, um.SOFTEN}  # both phases occur on the grid


def test_best_of_menu_matches_daymude_proportional_punishment() -> None:
    """The engine's menu maximiser on a 1001-point menu of intensities in [0, delta] with
    proportional punishment ``(nu + (1 - nu) a) psi (a - tau)+`` finds B2's optimum
    to the grid step."""
    worst = 0.0
    for tau in (0.2, 0.4):
        for delta in np.linspace(tau + 0.013, 1.0, 8):
            menu = np.linspace(delta, 0.0, 1001)  # decreasing intensity
            for nu in NUS:
                for psi in PSIS[::2]:
                    cost = (nu + (1 - nu) * menu) * psi * np.maximum(menu - tau, 0.0)
                    for beta in BETAS[::2]:
                        best = menu[uk.best_of_menu(beta, menu, cost)]
                        expected = opt_actions(
                            np.array([delta]), np.array([beta]), nu, "proportional", tau, psi
                        )[0]
                        worst = max(worst, abs(best - expected))
    assert worst <= delta / 1000 + 1e-12
    assert dpro(1.0, 0.2, 0.25, 1.0) > 0.25  # the interior optimum is exercised


def test_without_any_applicable_sanction_everyone_posts() -> None:
    """All A = 0: every post is posted whatever beliefs, noise or news (the counterfactual)."""
    rng = np.random.default_rng(1)
    n = 500
    beliefs = uk.make_beliefs(rng.random((n, 9), dtype=np.float32) * 10)
    for kind in (C, A, U):
        choice = run_choice(
            kind, rng.random(n) * 0.01, np.zeros((4, 2)), par(detention_cost=1e6, noise=1.0),
            noise=rng.random(n), beliefs=beliefs, alpha0=np.ones((2, 4)), news=np.ones((3, 4)),
        )  # fmt: skip
        assert (choice == um.POST).all()


# -- deterrence: certainty, severity, harsh regimes -------------------------------------


def self_censored_share(p_det: float, days: float, noise: float = 0.3, n: int = 100_000) -> float:
    """Share of calls to act (detention applicable to calls to act only) softened or
    withheld by a synthetic population (value ~ boldness x desire as shipped: Beta(2, 5)
    rescaled to mean 1 times Beta(2, 2) rescaled), truth mode, noise 0.3."""
    rng = np.random.default_rng(7)
    value = (rng.beta(2, 5, n) / (2 / 7)) * (rng.beta(2, 2, n) / 0.5)
    cost = um.detention_cost(days, 1.0, 7.0)
    choice = run_choice(
        A, value, law((A, um.DETENTION)), par(detention_cost=float(cost), noise=noise),
        truth=truth_table(A, detention=p_det), noise=rng.random(n),
    )  # fmt: skip
    return float(np.mean(choice != um.POST))


def test_certainty_deters_more_than_severity_at_equal_expected_cost() -> None:
    """B1: doubling the probability of detention raises self-censorship more than doubling
    its length, the expected days detained being equal."""
    base = self_censored_share(0.1, 15.0)
    more_certain = self_censored_share(0.2, 15.0)
    more_severe = self_censored_share(0.1, 30.0)
    assert more_certain - base > 1.2 * (more_severe - base) > 0.0


def test_detention_days_raise_self_censorship_with_diminishing_increments() -> None:
    """At a low probability (no saturation), each extra day detained adds less: the
    concave cost (a linear one fails this)."""
    shares = [self_censored_share(0.05, d) for d in (1.0, 15.0, 180.0)]
    assert shares[0] < shares[1] < shares[2]
    # per day detained, the second step adds far less than the first
    assert (shares[2] - shares[1]) / 165 < 0.4 * (shares[1] - shares[0]) / 14


def test_a_harsh_enough_regime_silences_everyone() -> None:
    """B2: with certain detention and a severe cost, at least 99% of calls to act are
    softened or withheld (noise 0.3), and everyone at no noise."""
    assert self_censored_share(1.0, 3650.0, noise=0.3) >= 0.99
    harsh = um.detention_cost(3650.0, 1.0, 7.0)
    assert self_censored_share(1.0, 3650.0, noise=0.0) == 1.0
    assert harsh > 6.0


def test_defiance_concentrates_among_high_desire_and_boldness() -> None:
    rng = np.random.default_rng(3)
    n = 60_000
    value = rng.gamma(2.0, 0.5, n)
    choice = run_choice(
        A, value, law((A, um.DETENTION)), par(detention_cost=3.0, noise=0.3),
        truth=truth_table(A, detention=0.3), noise=rng.random(n),
    )  # fmt: skip
    top = value > np.quantile(value, 2 / 3)
    bottom = value < np.quantile(value, 1 / 3)
    assert np.mean(choice[top] == um.POST) > np.mean(choice[bottom] == um.POST) + 0.3


@pytest.mark.parametrize("lever", ["probability", "cost", "desire", "climate"])
def test_self_censorship_is_monotone_in_each_lever(lever: str) -> None:
    rng = np.random.default_rng(11)
    n = 20_000
    value = rng.gamma(2.0, 0.5, n)
    u = rng.random(n)
    # Friends post half what is expected of them (for the climate lever).
    beliefs = uk.make_beliefs(
        np.zeros((n, 9), dtype=np.float32), flow=np.ones(n, dtype=np.float32),
        climate_observed=np.full((n, 3), 0.5, dtype=np.float32), climate_kind=np.ones(3),
    )  # fmt: skip
    shares = []
    for x in (0.5, 1.0, 2.0, 4.0):
        p, cost, v, kappa = 0.2, 2.0, value, 0.0
        if lever == "probability":
            p = 0.1 * x
        elif lever == "cost":
            cost = x
        elif lever == "desire":
            v = value * x
        else:
            kappa = x
        choice = run_choice(
            A, v, law((A, um.DETENTION), (C, um.REMOVAL)),
            par(detention_cost=cost, noise=0.3, climate=kappa),
            truth=truth_table(A, detention=p), noise=u, beliefs=beliefs,
        )  # fmt: skip
        shares.append(np.mean(choice != um.POST))
    steps = np.diff(shares)
    if lever == "desire":
        assert (steps < 0).all()
    else:
        assert (steps > 0).all()


def test_real_names_raise_felt_detention_risk() -> None:
    """A traceable user scales the (anonymous) detention belief by iota_traceable /
    iota_anonymous: the same people self-censor more once identifiable."""
    rng = np.random.default_rng(5)
    n = 20_000
    value = rng.gamma(2.0, 0.5, n)
    common = dict(
        kind=A, value=value, table=law((A, um.DETENTION)),
        parameters=par(detention_cost=2.0, iota=(1.0, 5.0), noise=0.3),
        truth=truth_table(A, detention=0.1), noise=rng.random(n),
    )  # fmt: skip
    anonymous = run_choice(**common, traceable=np.zeros(n, dtype=bool))
    named = run_choice(**common, traceable=np.ones(n, dtype=bool))
    assert np.mean(named != um.POST) > np.mean(anonymous != um.POST) + 0.1


def test_identifiability_raises_the_cost_of_every_kind_a_ban_follows() -> None:
    """Defect 6 (docs/validation.md): a closure's ban follows a traceable user (the
    identity is burned) and an anonymous one loses only ``reregistered_loss`` of the
    account, so registration lowers lawful criticism that is only ever removed (no
    detention anywhere) as well as calls to act, and the political posts said (posted or
    softened) fall, not only the calls to act."""
    rng = np.random.default_rng(12)
    n = 20_000
    value = rng.gamma(2.0, 0.5, n)
    u = rng.random(n)
    truth = truth_table(A, removal=0.9)
    truth[0, C, um.REMOVAL] = 0.6
    common = dict(
        value=value, table=law((A, um.REMOVAL), (C, um.REMOVAL)), truth=truth, noise=u,
        parameters=par(account_value=2.0, noise=0.3, reregistered_loss=0.25),
        strikes=np.full(n, 4), ban_follows=(0.0, 1.0),
    )  # fmt: skip
    for kind in (C, A):
        anonymous = run_choice(kind, **common, traceable=np.zeros(n, dtype=bool))
        named = run_choice(kind, **common, traceable=np.ones(n, dtype=bool))
        said_anonymous = np.mean(anonymous != um.WITHHOLD)
        said_named = np.mean(named != um.WITHHOLD)
        assert said_named < said_anonymous - 0.05, (kind, said_named, said_anonymous)
    # Where the platform does not check identities the ban follows nobody: no difference.
    unchecked = dict(common, ban_follows=(0.0, 0.0))
    anonymous = run_choice(C, **unchecked, traceable=np.zeros(n, dtype=bool))
    named = run_choice(C, **unchecked, traceable=np.ones(n, dtype=bool))
    assert np.array_equal(anonymous, named)
    # The statement: the whole account when the ban follows, the share otherwise.
    np.testing.assert_allclose(um.account_loss(2.0, np.array([0.0, 0.5, 1.0]), 0.25),
                               [0.5, 1.25, 2.0])  # fmt: skip
    np.testing.assert_allclose(um.removal_cost(4, 5, 0.05, 2.0, 0.0, 0.25), 0.55)


# -- the statement and the kernel agree --------------------------------------------------


def test_kernel_choice_equals_the_statement_functions() -> None:
    """Random beliefs, strikes, traceability, noise, news and laws: the compiled choice is
    users_model.post_choice on users_model.perceived_probability, post by post."""
    rng = np.random.default_rng(21)
    n = 4000
    n0 = 2.0
    evidence = (rng.random((n, 9)) * np.array([2, 2, 2, 0.5, 0.5, 0.5, 20, 20, 20])).astype(
        np.float32
    )
    beliefs = uk.make_beliefs(evidence.copy())
    alpha0 = um.prior_alpha([False, False, True, True], [0, 0.3, 1, 1], [0.1, 0.01], n0)
    news = np.abs(rng.normal(size=(3, 4))) * 0.1
    value = rng.gamma(2.0, 0.5, n)
    traceable = rng.random(n) < 0.5
    u = rng.random(n)
    p = par(detention_cost=float(um.detention_cost(15, 1.0, 7.0)), noise=0.3, account_value=2.0,
            iota=(1.0, 3.0))  # fmt: skip
    table = law((C, 0), (A, 0), (A, 1), (U, 0), (U, 1))
    for kind in (C, A, U):
        trials_before = beliefs.evidence[:, 6:9].copy()
        got = run_choice(kind, value, table, p, noise=u, beliefs=beliefs, alpha0=alpha0,
                         news=news, traceable=traceable)  # fmt: skip
        e = evidence.astype(np.float64)

        def felt_cost(
            k: int, e: np.ndarray = e, trials_before: np.ndarray = trials_before
        ) -> np.ndarray:
            pr = um.perceived_probability(
                alpha0[0, k], n0, e[:, k - 1], trials_before[:, k - 1], news[0, k], news[2, k]
            )
            pd = um.perceived_probability(
                alpha0[1, k], n0, e[:, 3 + k - 1], trials_before[:, k - 1], news[1, k], news[2, k]
            )
            pd = np.minimum(1.0, pd * np.where(traceable, 3.0, 1.0))
            s_rm = um.removal_cost(0, 5, 0.05, 2.0)
            return table[k, 0] * pr * s_rm + table[k, 1] * pd * p[uk.PAR_DETENTION_COST]

        soft = um.SOFTER_KIND[kind]
        menu = (INTENSITY[kind], INTENSITY[soft] if soft > 0 else 0.0)
        expected = um.post_choice(
            value.astype(np.float32).astype(float), menu,
            felt_cost(kind), felt_cost(soft) if soft > 0 else 0.0, um.choice_noise(u, 0.3),
            can_soften=soft > 0,
        )  # fmt: skip
        agree = got == expected
        assert agree.mean() > 0.999, (kind, agree.mean())  # float32 rounding at ties only
        assert len(set(got.tolist())) >= 2
        # one trial counted for each post or softened post, on the kind said
        said = np.where(got == um.POST, kind, np.where(got == um.SOFTEN, soft, -1))
        for k in (C, A, U):
            added = beliefs.evidence[:, 5 + k] - trials_before[:, k - 1]
            np.testing.assert_allclose(added, (said == k).astype(float), atol=1e-4)


# -- beliefs: the posterior, lazy decay, learning ---------------------------------------


def test_perceived_probability_is_the_beta_posterior_mean() -> None:
    """Two removals in ten posts with prior 0.1 over 2 trials: (0.2 + 2) / (2 + 10)."""
    assert um.perceived_probability(0.2, 2.0, 2.0, 10.0) == pytest.approx(2.2 / 12)
    alpha0 = um.prior_alpha([False, False, True, False], [0, 0.5, 1, 0.8], [0.1, 0.01], 2.0)
    np.testing.assert_allclose(alpha0[0], [0, 0.1, 0.2, 0.16])
    np.testing.assert_allclose(alpha0[1], [0, 0.01, 0.02, 0.016])


def speak(beliefs: uk.Beliefs, user: int, kind: int) -> None:
    """``user`` says a public post of ``kind`` (as :func:`uk.choose_posts` counts it)."""
    if not beliefs.spoke[user].any():
        beliefs.speakers[beliefs.n_speakers[0]] = user
        beliefs.n_speakers[0] += 1
    beliefs.spoke[user, uk.SAID_COLUMN + kind - 1] += 1


def ring(n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR arrays of a ring: each user's friends are the users before and after."""
    indptr = np.arange(0, 2 * n + 1, 2, dtype=np.int64)
    indices = np.stack([(np.arange(n) - 1) % n, (np.arange(n) + 1) % n], axis=1).ravel()
    return indptr, indices.astype(np.int64)


def test_lazy_decay_equals_a_daily_pass() -> None:
    """Random own sanctions, detentions, friends' public posts and their public removals
    on random days, rows brought up to date only when touched, equal a daily ``X <- rho
    (X + events)`` over every user (float32 rounding)."""
    rng = np.random.default_rng(8)
    n, days = 200, 90
    w_t, w_f, w_d = 0.2, 0.1, 0.7
    decay_pow = uk.decay_table(20.0, days + 1)
    rho = decay_pow[1]
    evidence = (rng.random((n, 9)) * 3).astype(np.float32)
    lazy = uk.make_beliefs(evidence.copy(), friends_see=True)
    daily = evidence.astype(np.float64)
    indptr, indices = ring(n)
    for day in range(days):
        m = rng.integers(0, 6)
        who = rng.integers(0, n, m)
        kinds = rng.integers(1, 4, m)
        public = rng.random(m) < 0.5
        talkers = rng.integers(0, n, 8)
        said = rng.integers(1, 4, 8)
        for w, k in zip(talkers, said, strict=True):
            speak(lazy, int(w), int(k))
            for f in indices[indptr[w] : indptr[w + 1]]:
                daily[f, 5 + k] += w_t
        learning.learn_beliefs(lazy, day, decay_pow, indptr, indices, who, kinds, public,
                               who[:2], kinds[:2], w_t, w_f, w_d, 0.5)  # fmt: skip
        for w, k, seen in zip(who, kinds, public, strict=True):
            daily[w, k - 1] += 1
            if seen:
                for f in indices[indptr[w] : indptr[w + 1]]:
                    daily[f, k - 1] += w_f
        for w, k in zip(who[:2], kinds[:2], strict=True):
            daily[w, 2 + k] += 1
            for f in indices[indptr[w] : indptr[w + 1]]:
                daily[f, 2 + k] += w_d
        daily = rho * daily
        assert lazy.n_speakers[0] == 0 and not lazy.spoke.any()
    for i in range(n):
        uk.bring_to_day(lazy, i, days, decay_pow)
    np.testing.assert_allclose(lazy.evidence[:, :9], daily, rtol=2e-5, atol=1e-5)


def test_without_events_beliefs_fade_to_the_prior_with_the_half_life() -> None:
    decay_pow = uk.decay_table(30.0, 400)
    beliefs = uk.make_beliefs(np.array([[5, 0, 0, 1, 0, 0, 10, 0, 0]], dtype=np.float32))
    uk.bring_to_day(beliefs, 0, 30, decay_pow)
    np.testing.assert_allclose(beliefs.evidence[0, [0, 3, 6]], [2.5, 0.5, 5.0], rtol=1e-6)
    alpha0 = np.full((2, 4), 0.2)
    uk.bring_to_day(beliefs, 0, 400, decay_pow)
    p = uk.perceived(beliefs, 0, C, 0, alpha0, np.zeros((3, 4)), 2.0)
    assert p == pytest.approx(0.1, abs=2e-4)


def test_friends_sanctions_teach_friends_and_visibility_zero_teaches_only_oneself() -> None:
    """A public removal teaches the author (1) and each friend (visibility x weight); a
    private one only the author; a detention its user and friends. Users 0-1-2 in a
    path, user 3 alone: different histories, different beliefs."""
    indptr = np.array([0, 1, 3, 4, 4])
    indices = np.array([1, 0, 2, 1])
    decay_pow = uk.decay_table(30.0, 10)
    for visibility in (1.0, 0.0):
        b = uk.make_beliefs(np.zeros((4, 9), dtype=np.float32), friends_see=True)
        learning.learn_beliefs(
            b, 0, decay_pow, indptr, indices,
            np.array([1, 0]), np.array([A, C]), np.array([True, False]),
            np.array([2]), np.array([U]), 0.2, 0.2 * visibility, 1.0 * visibility, 0.5,
        )  # fmt: skip
        ev = b.evidence
        assert ev[1, A - 1] == 1.0 and ev[0, C - 1] == 1.0
        assert ev[0, A - 1] == pytest.approx(0.2 * visibility)
        assert ev[2, A - 1] == pytest.approx(0.2 * visibility)
        assert ev[1, C - 1] == 0.0  # user 0's removal was private
        assert ev[2, 3 + U - 1] == 1.0 and ev[1, 3 + U - 1] == pytest.approx(visibility)
        assert ev[3].sum() == 0.0
        assert ev[:, 6:9].sum() == 0.0  # a sanction is not a post friends saw said


def test_news_reports_cases_scaled_to_100000_users_and_fades() -> None:
    """Each detention, per 100,000 users, is ``w`` punished posts (trials and detentions
    alike); without cases the news only fades: it never says "safe" (S16)."""
    news = np.zeros((3, 4))
    # 2,000 users: one detention is 50 per 100,000; w = 0.01 -> 0.5 punished posts.
    um.update_news(news, 0.5, np.array([0, 1, 4, 0]), 2_000, 0.01, 1.0)
    np.testing.assert_allclose(news[1], [0, 0.5, 2.0, 0])
    np.testing.assert_allclose(news[2], [0, 0.5, 2.0, 0])
    um.update_news(news, 0.5, np.array([0, 1, 0, 0]), 2_000, 0.01, 0.5)
    np.testing.assert_allclose(news[1], [0, 0.25 + 0.25, 1.0, 0])  # half the case seen
    np.testing.assert_allclose(news[2], [0, 0.25 + 0.25, 1.0, 0])
    assert news[0].sum() == 0.0  # removals are not news


def test_a_day_without_cases_leaves_beliefs_where_the_evidence_had_them() -> None:
    """The old news added trials every day at the realized detention rate (about 0), so
    more news meant "safe" (docs/validation.md, "a crackdown's news lowers
    withholding"). Now a day of no detentions adds nothing, at any weight."""
    news = np.zeros((3, 4))
    for weight in (0.0, 0.002, 10.0):
        um.update_news(news, 0.9, np.zeros(4), 1_000, weight, 1.0)
        assert not news.any()


def test_more_cases_in_the_news_raise_the_perceived_detention_probability() -> None:
    """A user's belief (S16) rises with the cases reported, towards 1 for a user with no
    own evidence, and a heavy poster's own unpunished posts dilute it."""
    alpha0, n0 = 0.003, 2.0
    believed = []
    for detained in (0, 1, 10, 100):
        news = np.zeros((3, 4))
        um.update_news(news, 1.0, np.array([0, detained, 0, 0]), 100_000, 0.01, 1.0)
        quiet = um.perceived_probability(alpha0, n0, 0.0, 0.0, news[1, 1], news[2, 1])
        heavy = um.perceived_probability(alpha0, n0, 0.0, 50.0, news[1, 1], news[2, 1])
        believed.append((float(quiet), float(heavy)))
    quiet, heavy = zip(*believed, strict=True)
    assert list(quiet) == sorted(quiet) and quiet[0] < quiet[-1]
    assert all(h < q for q, h in zip(quiet[1:], heavy[1:], strict=True))


def test_engine_and_reference_news_agree() -> None:
    from simulator.reference import minds

    rng = np.random.default_rng(5)
    news = np.zeros((3, 4))
    ref = {"removal": [0.0] * 4, "detention": [0.0] * 4, "trials": [0.0] * 4}
    for _ in range(30):
        detained = rng.integers(0, 4, size=4)
        detained[0] = 0
        users = int(rng.integers(1, 50_000))
        weight, visibility = float(rng.random()), float(rng.random())
        um.update_news(news, 0.97, detained.astype(float), users, weight, visibility)
        minds.update_news(ref, 0.97, detained.tolist(), users, weight, visibility)
    expected = np.array([ref["removal"], ref["detention"], ref["trials"]])
    np.testing.assert_allclose(news, expected, rtol=1e-12)


def test_phases_of_decisions() -> None:
    choice = np.array([um.POST, um.POST, um.SOFTEN, um.WITHHOLD])
    at_stake = np.array([False, True, True, True])
    assert um.phase(choice, at_stake).tolist() == [0, 3, 1, 2]


# -- the phase figure's numbers ----------------------------------------------------------


def test_phase_shares_follow_b2() -> None:
    """Nothing punished: all compliant; severity up: fewer defiant; the harshest cell
    (criticism punished, the highest surveillance, a year) silences at least 99%;
    defiance rises with desire and with boldness."""
    from simulator.plots import phase

    shares = phase.phase_shares(users=4000)
    np.testing.assert_allclose(shares.sum(axis=-1), 1.0)
    assert (shares[0, :, :, um.COMPLIANT] == 1.0).all()
    defiant = shares[1:, :, :, um.DEFIANT]
    assert (np.diff(defiant, axis=-1) <= 0).all() and defiant[..., 0].min() > defiant[..., -1].max()
    assert shares[2, -1, -1, um.FULLY_SELF_CENSORING] >= 0.99
    assert shares[1, -1, -1, um.PARTLY_SELF_CENSORING] >= 0.99  # calls to act softened
    grid = phase.defiance_by_desire_and_boldness(users=40_000)
    assert grid[-1, -1] > grid[5, 5] > grid[0, 0]
    assert (grid[:, -3:].mean() > grid[:, :3].mean() + 0.3) and (grid[-3:].mean() > grid[:3].mean())


def test_reference_minds_decide_as_the_statement() -> None:
    """The reference model's per-agent choice (simulator.reference.minds, written
    independently) equals users_model.post_choice on the same beliefs, and its daily
    decay equals the kernel's lazy one."""
    from simulator.reference import minds

    rng = np.random.default_rng(4)
    n0 = 2.0
    alpha0 = um.prior_alpha([False, False, True, True], [0, 0.3, 1, 1], [0.1, 0.01], n0)
    law_table = law((C, 0), (A, 0), (A, 1), (U, 0), (U, 1))
    d_cost = float(um.detention_cost(15, 1.0, 7.0))
    ref_law = minds.Law(
        removal={(0, k): bool(law_table[k, 0]) for k in (1, 2, 3)},
        detention={(0, k): bool(law_table[k, 1]) for k in (1, 2, 3)},
        intensity=tuple(INTENSITY),  # type: ignore[arg-type]
        prior_success={(m, k): alpha0[i, k] for i, m in enumerate(("removal", "detention"))
                       for k in (1, 2, 3)},  # fmt: skip
        prior_trials=n0, removal_cost=0.05, account_value=2.0, detention_cost=d_cost,
        noise_exponent=0.3, identify_anonymous=1.0, identify_traceable=3.0,
    )  # fmt: skip
    news = {"removal": [0.0] * 4, "detention": [0, 0.01, 0.05, 0.02], "trials": [0, 1, 1, 1]}
    news_array = np.array([news["removal"], news["detention"], news["trials"]], dtype=float)
    agree = 0
    total = 0
    for _ in range(3000):
        mind = minds.Mind(
            removals=[0.0, *rng.random(3) * 2], detentions=[0.0, *rng.random(3) * 0.5],
            trials=[0.0, *rng.random(3) * 20],
        )  # fmt: skip
        kind = int(rng.integers(1, 4))
        value = float(rng.gamma(2.0, 0.5))
        u = float(rng.random())
        traceable = bool(rng.random() < 0.5)
        e = np.array([*mind.removals[1:], *mind.detentions[1:], *mind.trials[1:]], np.float32)
        beliefs = uk.make_beliefs(e[None].copy())
        parameters = par(detention_cost=d_cost, noise=0.3, account_value=2.0, iota=(1.0, 3.0))
        engine = run_choice(kind, np.array([value]), law_table, parameters,
                            noise=np.array([u]), beliefs=beliefs, alpha0=alpha0, news=news_array,
                            traceable=np.array([traceable]))[0]  # fmt: skip
        said = minds.decide(mind, ref_law, np.float32(value), 0, kind, news, 5, traceable, u)
        soft = um.SOFTER_KIND[kind]
        expected = um.POST if said == kind else (um.SOFTEN if said == soft else um.WITHHOLD)
        agree += engine == expected
        total += 1
    assert agree / total > 0.998
    # daily decay = lazy decay
    decay_pow = uk.decay_table(20.0, 40)
    mind = minds.Mind(removals=[0, 1, 2, 3], detentions=[0, 0.5, 0, 1], trials=[0, 4, 5, 6])
    beliefs = uk.make_beliefs(np.array([[1, 2, 3, 0.5, 0, 1, 4, 5, 6]], dtype=np.float32))
    for _ in range(37):
        mind.end_of_day(decay_pow[1])
    uk.bring_to_day(beliefs, 0, 37, decay_pow)
    np.testing.assert_allclose(
        beliefs.evidence[0, :9],
        [*mind.removals[1:], *mind.detentions[1:], *mind.trials[1:]],
        rtol=1e-5,
    )


def test_friends_hear_what_was_said_in_public() -> None:
    """Public posts counted by the choice reach the friends at the day's end, as trials
    (``trial_weight`` each) and in the climate's memory (O <- keep O + (1 - keep)
    said); private ones only count as the author's own trial; what was said is cleared."""
    n = 3
    beliefs = uk.make_beliefs(
        np.zeros((n, 9), dtype=np.float32), flow=np.ones(n, dtype=np.float32),
        climate_observed=np.full((n, 3), 0.4, dtype=np.float32), climate_kind=np.ones(3),
    )  # fmt: skip
    p = par(noise=0.0, climate=1.0)
    run_choice(C, np.full(n, 5.0), law((C, 0)), p, beliefs=beliefs)
    run_choice(A, np.full(n, 5.0), law((A, 0)), p, beliefs=beliefs, channel=1)  # private
    assert beliefs.spoke[:, uk.SAID_COLUMN + C - 1].tolist() == [1, 1, 1]
    assert beliefs.spoke[:, uk.SAID_COLUMN + A - 1].tolist() == [0, 0, 0]
    assert sorted(beliefs.speakers[: beliefs.n_speakers[0]].tolist()) == [0, 1, 2]
    indptr = np.array([0, 2, 3, 4])
    indices = np.array([1, 2, 0, 0])
    nobody = np.zeros(0, dtype=np.int64)
    learning.decay_climate(beliefs, 0.5)  # the day's decay first, then what was heard
    learning.learn_beliefs(beliefs, 0, uk.decay_table(30.0, 5), indptr, indices, nobody,
                           nobody, np.zeros(0, dtype=bool), nobody, nobody, 0.25, 0.2, 1.0,
                           0.5)  # fmt: skip
    memory = beliefs.climate_observed[:, uk.CLIMATE_COLUMN :]
    np.testing.assert_allclose(memory[:, C - 1], [0.2 + 1.0, 0.2 + 0.5, 0.7])
    np.testing.assert_allclose(memory[:, A - 1], [0.2, 0.2, 0.2])
    # own post 1, plus 0.25 per friend who said one (user 0 has two friends)
    np.testing.assert_allclose(beliefs.evidence[:, 6 + C - 1], [1.5, 1.25, 1.25])
    np.testing.assert_allclose(beliefs.evidence[:, 6 + A - 1], [1.0, 1.0, 1.0])
    assert beliefs.spoke.sum() == 0 and beliefs.n_speakers[0] == 0


def test_friends_see_a_held_post_only_when_it_is_approved() -> None:
    """Issue 17 (docs/validation.md, the regional example): a post said in public that
    the filter held is no trial for the author's friends that day (``said - held``),
    nor in the climate's memory; approved on a later day it counts then
    (``note_in_public``, listing its author as a speaker once); blocked, never. Before,
    a friend's held and blocked post read as one more safe post."""
    n = 3
    beliefs = uk.make_beliefs(
        np.zeros((n, 9), dtype=np.float32), flow=np.ones(n, dtype=np.float32),
        climate_observed=np.zeros((n, 3), dtype=np.float32), climate_kind=np.ones(3),
    )  # fmt: skip
    indptr = np.array([0, 2, 3, 4])  # user 0's friends are 1 and 2
    indices = np.array([1, 2, 0, 0])
    nobody = np.zeros(0, dtype=np.int64)
    decay_pow = uk.decay_table(30.0, 5)

    def learn(day: int) -> None:
        learning.decay_climate(beliefs, 0.5)
        learning.learn_beliefs(beliefs, day, decay_pow, indptr, indices, nobody, nobody,
                               np.zeros(0, dtype=bool), nobody, nobody, 0.25, 0.2, 1.0,
                               0.5)  # fmt: skip

    # Day 0: user 0 says three critical posts in public; the filter holds two.
    column = np.full(4, -1, dtype=np.int64)
    column[C] = uk.SAID_COLUMN + C - 1
    uk.note_in_public(beliefs, np.array([0, 0, 0]), column, np.array([C, C, C]))
    held = np.full(4, -1, dtype=np.int64)
    held[C] = uk.HELD_COLUMN + C - 1
    uk.note_in_public(beliefs, np.array([0, 0]), held, np.array([C, C]))
    assert beliefs.n_speakers[0] == 1  # listed once
    learn(0)
    np.testing.assert_allclose(beliefs.evidence[1:, uk.TRIALS_COLUMN + C - 1], [0.25, 0.25])
    np.testing.assert_allclose(beliefs.climate_observed[1:, uk.CLIMATE_COLUMN + C - 1], [0.5, 0.5])
    # Day 1: one held post is approved (it appears now), the other was blocked.
    uk.note_in_public(beliefs, np.array([0]), column, np.array([C]))
    assert beliefs.speakers[: beliefs.n_speakers[0]].tolist() == [0]
    learn(1)
    rho = float(decay_pow[1])
    np.testing.assert_allclose(
        beliefs.evidence[1:, uk.TRIALS_COLUMN + C - 1], [0.25 * rho + 0.25] * 2, rtol=1e-6
    )
    assert beliefs.spoke.sum() == 0 and beliefs.n_speakers[0] == 0


def test_friends_who_fall_silent_do_not_make_speaking_feel_safer() -> None:
    """Defect 7 (docs/validation.md): friends who post half as much, with the same
    share of their posts removed, must not lower one's perceived removal probability.
    Friends' trials are the posts they said, so the evidence's rate stays the removal
    rate (when the trials counted the posts they meant to say, it halved)."""
    n_friends, days, rate = 10, 60, 0.5
    indptr = np.concatenate([[0], np.arange(n_friends, 2 * n_friends + 1)]).astype(np.int64)
    indices = np.concatenate([np.arange(1, n_friends + 1), np.zeros(n_friends)]).astype(np.int64)
    decay_pow = uk.decay_table(30.0, days + 1)
    alpha0 = np.zeros((2, 4))
    seen = []
    for speaking in (1.0, 0.5):
        b = uk.make_beliefs(np.zeros((n_friends + 1, 9), dtype=np.float32), friends_see=True)
        for day in range(days):
            # Every friend means to post 4 critical posts a day; says ``speaking`` of
            # them; the platform removes ``rate`` of those said.
            said = int(4 * speaking)
            removed = []
            for f in range(1, n_friends + 1):
                for _ in range(said):
                    speak(b, f, C)
                removed += [f] * int(said * rate)
            who = np.array(removed, dtype=np.int64)
            learning.learn_beliefs(b, day, decay_pow, indptr, indices, who,
                                   np.full(len(who), C), np.ones(len(who), dtype=bool),
                                   np.zeros(0, np.int64), np.zeros(0, np.int64), 0.2, 0.2,
                                   1.0, 0.5)  # fmt: skip
        uk.bring_to_day(b, 0, days, decay_pow)
        seen.append(uk.perceived(b, 0, C, 0, alpha0, np.zeros((3, 4)), 1e-9))
    assert seen[0] == pytest.approx(rate, rel=1e-4)
    assert seen[1] >= seen[0] * (1 - 1e-4)


def test_the_compiled_mood_is_the_statement() -> None:
    u = np.array([1e-15, 0.01, 0.3, 0.5, 0.77, 0.999, 1.0])
    for exponent in (0.0, 0.3, 1.0):
        compiled = [uk.mood(float(x), exponent) for x in u]
        np.testing.assert_allclose(compiled, um.choice_noise(u, exponent), rtol=1e-12)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason=(
        "docs/validation.md defect 7: already failed at 630508e (spiral per replication "
        "-0.00019, -0.00093, 0.00060, 0.00118); since the news reports cases (session 7) "
        "0.00187, -0.00186, -0.00043, -0.01199, and without news 0.00215, -0.00186, "
        "0.00069, -0.00182: the climate's interaction with visibility is within noise at "
        "3,000 users. Session 16: with 4 replications all four came out positive (0.0014, "
        "0.0033, 0.0028, 0.0005; interval low 6e-6), with 12 the mean is -0.0027 "
        "[-0.0075, 0.0022]: the test now runs 12"
    ),
)
def test_the_climate_turns_visibility_into_a_spiral() -> None:
    """Defect 7's other half: with the climate on, friends who withhold make speaking
    feel costlier, so more visible enforcement raises political withholding by more
    than it does with the climate off (china_csl_2016 at 3,000 users for 60 days, twelve
    paired replications: visibility 0.1 and 1, climate weight 0 and 0.5, the same seeds
    at every level). The difference in differences' 95% interval must be above 0, and
    it must be positive in at least 10 of the 12 replications. (Four replications, and
    all four positive, passed by chance in session 16.)"""
    import simulator
    from benchmarks.probe_levers import interval, political_withholding

    base = simulator.load_scenario("china_csl_2016")
    shares: dict[tuple[float, float], list[float]] = {}
    for kappa in (0.0, 0.5):
        for visibility in (0.1, 1.0):
            scenario = simulator.override(
                base,
                {
                    "population.users": 3000,
                    "population.perception.climate_weight": kappa,
                    "population.perception.visibility": visibility,
                },
                source="spiral test",
            )
            shares[kappa, visibility] = [
                political_withholding(
                    simulator.run(scenario, seed=100 + r, days=60, replication=r, parallel=False),
                    scenario,
                )
                for r in range(12)
            ]
    chill = {k: np.subtract(shares[k, 1.0], shares[k, 0.1]) for k in (0.0, 0.5)}
    assert (chill[0.0] > 0).all()  # visibility chills without the climate too
    spiral = chill[0.5] - chill[0.0]
    assert (spiral > 0).sum() >= 10, spiral
    assert interval(list(spiral)).low > 0, spiral
