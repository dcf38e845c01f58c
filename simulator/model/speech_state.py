"""Users' speech state in a run: the law as users read it, their beliefs, the news
(docs/model.md S3 "Speech choice", S16 "Perceived probabilities").

:class:`SpeechState` builds what :func:`simulator.kernels.choice.choose_posts` reads
each day from the scenario and the users, and after the day's sanctions has
:func:`simulator.kernels.choice.learn_beliefs` add them to the evidence. Where no
sanction can follow any post (the counterfactual, a world without rules) it allocates
no beliefs and nobody reads any.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.kernels import choice as uk
from simulator.kernels import learning
from simulator.kinds import N_KINDS, SENSITIVE_KINDS, Channel, UserState
from simulator.model import speech as um
from simulator.model.platform_policy import line_probability as platform_line_probability
from simulator.model.police import police_staff
from simulator.model.scenario import Scenario
from simulator.model.vague_offence import scenario_offence_line

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
#: Mean beliefs (population_daily) are averaged over at most about this many users.
MEAN_SAMPLE_USERS = 50_000
#: Anonymous users' chance of identification below which a traceable user's detention
#: belief stops growing (1 / 0.01 = 100 times an anonymous user's).
MIN_IDENTIFICATION = 0.01


def line_probability(scenario: Scenario) -> FloatArray:
    """``q_k`` of ``scenario`` (:func:`simulator.model.platform_policy.line_probability`):
    1 for a prohibited kind, ``min(1, vagueness * closeness_k)`` for a lawful sensitive
    kind, 0 for benign and for every kind when nothing is prohibited."""
    takedown = scenario.rules.takedown
    return np.asarray(
        platform_line_probability(
            takedown.prohibited_mask(),
            scenario.population.perception.kind_closeness.as_tuple(),
            takedown.vagueness,
        ),
        dtype=np.float64,
    )


def law_table(scenario: Scenario) -> FloatArray:
    """``A[c, k, m]`` (channels x kinds x 2): 1 where the law can bring removal (m = 0)
    or detention (m = 1) on a post of kind ``k`` on channel ``c``. Removal: takedown
    duties on, public posts or private ones where ``private_messages``; any sensitive
    kind (lawful ones are removed by error). Detention: as removal, with a duty to
    report users, investigators, ``police.detention_probability.k > 0`` and a kind the
    authorities can count as an offence (``o_k > 0``,
    :func:`simulator.model.vague_offence.offence_line`: a prohibited kind, or a lawful
    one near a vague line)."""
    rules = scenario.rules
    takedown = rules.takedown
    police = scenario.police
    table = np.zeros((len(Channel), N_KINDS, 2))
    if not takedown.enabled:
        return table
    reports = rules.reporting.mode != "none" and police_staff(scenario) > 0
    detention = police.detention_probability.as_tuple()
    offence = scenario_offence_line(scenario)
    for channel in Channel:
        if channel == Channel.PRIVATE and not takedown.private_messages:
            continue
        for k in SENSITIVE_KINDS:
            table[channel, k, um.REMOVAL] = 1.0
            table[channel, k, um.DETENTION] = float(
                reports and detention[k] > 0.0 and offence[k] > 0.0
            )
    return table


def prior_detention(scenario: Scenario) -> FloatArray:
    """Per kind, the prior chance an anonymous user's post of that kind (if prohibited)
    brings a detention: ``prior_report * identify_anonymous_probability *
    detention_probability.k`` (the law as published; lawful kinds are scaled by their
    line probability in the prior)."""
    police = scenario.police
    detention = np.array(police.detention_probability.as_tuple())
    report = scenario.population.perception.prior_report
    return np.asarray(report * police.identify_anonymous_probability * detention)


def ban_follows(scenario: Scenario) -> FloatArray:
    """Per platform, the chance that a closed account's ban follows an anonymous user
    (column :data:`~simulator.kernels.choice.ANONYMOUS`: 0, a new account is always
    possible) and a user registered under the real name (column ``TRACEABLE``: the
    platform's ``real_name_enforcement`` while the real-name rule exists, the identity
    check that burns the identity at closure, S14; else 0)."""
    rule = scenario.rules.real_name.enabled
    out = np.zeros((len(scenario.platforms), 2))
    for p, spec in enumerate(scenario.platforms):
        out[p, uk.TRACEABLE] = spec.real_name_enforcement if rule else 0.0
    return out


class SpeechState:
    """What users decide by, for one run of ``scenario``."""

    def __init__(
        self,
        scenario: Scenario,
        value: NDArray[np.float32],
        sensitive_weights: Callable[[], tuple[FloatArray, IntArray, FloatArray]],
        network: Callable[[], tuple[NDArray[np.integer], NDArray[np.integer]]],
        strikes_to_close: IntArray,
    ) -> None:
        """``value`` is each user's ``beta_i D_i``; ``sensitive_weights()`` each user's
        sensitive posts a day by weight row, each kind's row and scale
        (:meth:`simulator.model.population.Users.sensitive_weights`), ``network()`` the
        CSR arrays, both asked for only if beliefs are kept."""
        population = scenario.population
        perception = population.perception
        speech = population.speech
        self.perception = perception
        self.law = law_table(scenario)
        #: Whether any post can bring a sanction: else nobody reads a belief.
        self.at_risk = bool(self.law.any())
        q = line_probability(scenario)
        prohibited = np.array(scenario.rules.takedown.prohibited_mask(), dtype=bool)
        n0 = perception.prior_trials
        self.alpha0 = um.prior_alpha(prohibited, q, [perception.prior_removal, 1.0], n0)
        self.alpha0[um.DETENTION] *= prior_detention(scenario)
        self.news = np.zeros((3, N_KINDS))
        #: The simulated population, which the news' cases are scaled by (S16).
        self.users = population.users
        self.decay = 0.5 ** (1.0 / perception.half_life_days)
        self.decay_pow = uk.decay_table(perception.half_life_days, scenario.horizon_days + 1)
        self.value = value
        self.strikes_to_close = strikes_to_close
        self.intensity = np.array(speech.intensity.as_tuple())
        self.softer = np.array(um.SOFTER_KIND, dtype=np.int64)
        self.par = np.zeros(uk.N_PAR)
        self.par[uk.PAR_PRIOR_TRIALS] = n0
        self.par[uk.PAR_REMOVAL_COST] = speech.removal_cost
        self.par[uk.PAR_ACCOUNT_VALUE] = speech.account_value
        self.par[uk.PAR_DETENTION_COST] = float(
            um.detention_cost(
                scenario.police.detention_days, speech.detention_cost, speech.detention_scale_days
            )
        )
        self.par[uk.PAR_NOISE] = speech.choice_noise
        self.par[uk.PAR_CLIMATE] = perception.climate_weight
        self.par[uk.PAR_IOTA_ANONYMOUS] = 1.0
        identify = scenario.police.identify_anonymous_probability
        self.par[uk.PAR_IOTA_TRACEABLE] = 1.0 / max(identify, MIN_IDENTIFICATION)
        self.par[uk.PAR_REREGISTERED_LOSS] = speech.reregistered_loss
        self.ban_follows = ban_follows(scenario)
        self.truth = np.zeros((0, N_KINDS, 2))
        self.visibility = perception.visibility
        # Visibility is the share of the enforcement around them users see: friends'
        # removals and detentions, detentions in the news; friends' posts (the trials,
        # what they actually said) are seen whatever it is.
        self.trial_weight = perception.friend_evidence_weight
        self.friend_weight = perception.visibility * perception.friend_evidence_weight
        self.friend_detention_weight = perception.visibility * perception.friend_detention_weight
        self.climate_keep = 0.5 ** (1.0 / perception.climate_half_life_days)
        self.beliefs = uk.empty_beliefs()
        #: The day the run is on (set by the engine at each day's start): newcomers'
        #: beliefs start there.
        self.today = 0
        self._initial_row = np.zeros(uk.EVIDENCE_COLUMNS, dtype=np.float32)
        self._network = network
        #: The day's learn_beliefs while it runs on the day's second thread (learn with
        #: ``submit``); joined by :meth:`learned` before anything reads the beliefs.
        self._learning: Future[Any] | None = None
        self._climate_decayed_on = -1  # the last day whose climate decay was made
        if self.at_risk:
            self.beliefs = self._initial_beliefs(scenario, q, sensitive_weights)

    def _initial_beliefs(
        self,
        scenario: Scenario,
        q: FloatArray,
        sensitive_weights: Callable[[], tuple[FloatArray, IntArray, FloatArray]],
    ) -> uk.Beliefs:
        """Day-0 evidence (``initial_trials`` posts at the initial rates, times ``q_k`` for
        lawful kinds); with the climate on, the friends' expected public posts (E) and
        the memory of them (O, starting at E)."""
        perception = self.perception
        population = scenario.population
        n = len(self.value)
        rows = np.zeros((n, uk.ROW_COLUMNS), dtype=np.float32)
        trials = perception.initial_trials
        for k in SENSITIVE_KINDS:
            rows[:, uk.REMOVAL_COLUMN + k - 1] = trials * perception.initial_removal * q[k]
            rows[:, uk.DETENTION_COLUMN + k - 1] = trials * perception.initial_detention * q[k]
            rows[:, uk.TRIALS_COLUMN + k - 1] = trials
        self._initial_row = rows[0, : uk.EVIDENCE_COLUMNS].copy() if n else self._initial_row
        climate_on = perception.climate_weight > 0.0
        friends_see = self.trial_weight > 0.0 or self.friend_weight > 0.0
        if not climate_on:
            return uk.make_beliefs(rows, day=rows[:, uk.DAY_COLUMN], friends_see=friends_see)
        # The climate's E: friends' expected public posts of each kind a day. With one
        # weight row (no group mixes) E_ik = flow_i * mix_k; with a row per kind (groups
        # writing their own mix) each kind's friends' sum, E_ik itself (flow 1).
        indptr, indices = self._network()
        weights, kind_row, kind_scale = sensitive_weights()
        public = (1.0 - population.private_share) * weights
        if len(public) == 1:
            mix = np.array([getattr(population.sensitive_mix, k.label) for k in SENSITIVE_KINDS])
            flow = learning.friend_sums(indptr, indices, public[0])
            share = mix[None, :]
        else:
            flow = np.ones(n)
            share = np.stack(
                [
                    learning.friend_sums(indptr, indices, public[kind_row[k]]) * kind_scale[k]
                    for k in range(len(kind_row))
                ],
                axis=1,
            )
        return uk.make_beliefs(
            rows, day=rows[:, uk.DAY_COLUMN], flow=flow,
            climate_observed=(flow[:, None] * share).astype(np.float32),
            climate_kind=share,
        )  # fmt: skip

    def reset(self, slots: IntArray) -> None:
        """Newcomers in ``slots`` (base turnover) hold the day-0 evidence, from today;
        their friends' flow is their slot's (the same friends)."""
        if not self.at_risk or not len(slots):
            return
        self.learned()
        rows = self.beliefs.evidence
        rows[slots, : uk.EVIDENCE_COLUMNS] = self._initial_row
        rows[slots, uk.DAY_COLUMN] = self.today

    #: With user groups (set by the run, docs/model.md "Groups"): each user's group and
    #: the per-group counts the choice adds to; empty (nothing counted) without groups.
    group: NDArray[np.int64] = uk.SpeechInputs._field_defaults["group"]
    group_counts: NDArray[np.int64] = uk.SpeechInputs._field_defaults["group_counts"]
    #: Each user's stance x boldness cell and the run's decisions by kind, cell and phase
    #: (set by the run, docs/metrics.md "Phases"); empty: nothing counted.
    cell: NDArray[np.int8] = uk.SpeechInputs._field_defaults["cell"]
    phase_counts: NDArray[np.int64] = uk.SpeechInputs._field_defaults["phase_counts"]

    def inputs(self, strikes: NDArray[np.int16], traceable: NDArray[np.bool_]) -> uk.SpeechInputs:
        """Today's :class:`~simulator.kernels.choice.SpeechInputs`."""
        self.learned()
        return uk.SpeechInputs(
            self.law, self.intensity, self.softer, strikes, self.strikes_to_close,
            self.ban_follows, traceable, self.decay_pow, self.alpha0, self.news, self.par,
            self.truth, self.group, self.group_counts, self.cell, self.phase_counts,
        )  # fmt: skip

    def learn(
        self,
        day: int,
        sanctioned: IntArray,
        sanctioned_kind: IntArray,
        sanctioned_public: NDArray[np.bool_],
        detained: IntArray,
        detained_kind: IntArray,
        expected_detentions: FloatArray,
        appeared_authors: IntArray,
        appeared_kinds: IntArray,
        submit: Callable[..., Future[Any]] | None = None,
    ) -> None:
        """End of day ``day``: the day's sanctions, detentions and friends' public posts
        into the evidence; the day's expected detentions by kind (``expected_detentions``,
        the chances of the investigations that finished) into the news; the climate.
        ``appeared_*``: the public posts the filter held and approved today, which their
        authors' friends see now (a post said in public counts for the friends when it
        appears, S16; the choice counted it as said and the hold as held).
        ``submit`` (a thread pool's): the evidence pass runs there, joined by
        :meth:`learned` (the same arrays written in the same order: the same bits)."""
        if not self.at_risk:
            return
        self.learned()
        perception = self.perception
        if len(appeared_authors) and not len(self.truth):
            law = self.law[Channel.PUBLIC]
            column = np.full(N_KINDS, -1, dtype=np.int64)
            for kind in SENSITIVE_KINDS:
                if law[kind, 0] + law[kind, 1] > 0.0:
                    column[kind] = uk.SAID_COLUMN + int(kind) - 1
            uk.note_in_public(self.beliefs, appeared_authors, column, appeared_kinds)
        um.update_news(
            self.news, self.decay, expected_detentions, self.users,
            perception.news_case_weight, perception.visibility,
            np.array(perception.news_punished_posts_per_day.as_tuple()),
        )  # fmt: skip
        self.decay_climate(day)  # (made already, at scale, while the review ran)
        friends = len(self.beliefs.spoke) > 0
        friends = friends or (len(detained) > 0 and self.friend_detention_weight > 0)
        if friends:
            indptr, indices = self._network()
        else:
            # As the network stores them (int32), so the kernel is compiled once.
            indptr, indices = np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int32)
        arguments = (
            self.beliefs, day, self.decay_pow, indptr, indices,
            sanctioned, sanctioned_kind, sanctioned_public, detained, detained_kind,
            self.trial_weight, self.friend_weight, self.friend_detention_weight,
            self.climate_keep,
        )  # fmt: skip
        if submit is None:
            learning.learn_beliefs(*arguments)
        else:
            self._learning = submit(learning.learn_beliefs, *arguments)

    def decay_climate(self, day: int) -> None:
        """Day ``day``'s decay of the climate's memory (S3's O), once, before the day's
        evidence pass adds to it (:func:`learning.decay_climate`); nothing where no
        beliefs are kept or the climate is off. It may run on another thread after the
        day's choices, as long as nothing reads the beliefs meanwhile."""
        if (
            self.at_risk
            and len(self.beliefs.climate_observed)
            and self._climate_decayed_on != day
        ):
            learning.decay_climate(self.beliefs, self.climate_keep)
            self._climate_decayed_on = day

    def learned(self) -> None:
        """Wait for the evidence pass :meth:`learn` left running, if any (its errors
        raised here)."""
        pending, self._learning = self._learning, None
        if pending is not None:
            pending.result()

    def mean_beliefs(self, day: int, state: NDArray[np.int8]) -> FloatArray:
        """Mean perceived removal and detention probability per sensitive kind (2 x 3)
        over active users (every user up to :data:`MEAN_SAMPLE_USERS`, else every k-th);
        the prior where no beliefs are kept."""
        if not self.at_risk:
            return np.zeros((2, 3))
        self.learned()
        stride = max(1, len(state) // MEAN_SAMPLE_USERS)
        out: FloatArray = learning.mean_beliefs(
            self.beliefs, state, int(UserState.ACTIVE), day, self.decay_pow, self.alpha0,
            self.news, self.par[uk.PAR_PRIOR_TRIALS], stride,
        )  # fmt: skip
        return out
