"""From counts to tables and summary numbers (definitions: docs/metrics.md).

Pure functions of a :class:`~simulator.output.recorder.Recorder` (and its counterfactual), so
they can be tested on hand-made counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from simulator.kinds import (
    CHANNEL_LABELS,
    EXCLUSION_LABELS,
    KIND_LABELS,
    LAWFUL_KINDS,
    N_KINDS,
    SENSITIVE_KINDS,
    Channel,
    ContentKind,
    EventKind,
    ExclusionReason,
    Outcome,
)
from simulator.model import exposure
from simulator.model.scenario import Scenario
from simulator.output.recorder import DELAY_EDGES_HOURS, Recorder

OUTCOME_COLUMNS = ("withheld", "excluded", "blocked", "removed", "surviving", "softened")
#: Political speech: criticism and calls to collective action (docs/metrics.md).
POLITICAL_KINDS: tuple[ContentKind, ...] = (ContentKind.CRITICAL, ContentKind.COLLECTIVE_ACTION)
#: The parts of a loss by mechanism, in the order they are reported (docs/metrics.md,
#: "Loss by mechanism"): the first five are posts of the group lost, ``softened_in`` is
#: (minus) the posts of other kinds said as the group's instead.
MECHANISMS = ("withheld", "softened", "excluded", "blocked", "removed", "softened_in")
#: Delays (hours) at which the summary reports the cumulative share of removals.
DELAY_MARKS_HOURS = {"8min": 8 / 60, "30min": 0.5, "1h": 1.0, "24h": 24.0}


def daily_table(recorder: Recorder, scenario: Scenario, platform_names: list[str]) -> pd.DataFrame:
    """One row per day x platform x channel x kind with every outcome count."""
    counts = recorder.counts
    days, rows, channels, kinds, _ = counts.shape
    cells = days * rows * channels * kinds
    # Columns built with numpy (a MultiIndex product and reset_index took ~4 ms); the
    # label columns are object arrays of str, which pandas types as it typed the index.
    kind_labels = np.array(KIND_LABELS, dtype=object)
    kind = np.tile(np.arange(kinds), days * rows * channels)
    flat = counts.reshape(cells, len(Outcome))
    columns: dict[str, Any] = {
        "day": np.repeat(np.arange(days, dtype=np.int64), rows * channels * kinds),
        "platform": np.tile(
            np.repeat(np.array(platform_names, dtype=object), channels * kinds), days
        ),
        "channel": np.tile(np.repeat(np.array(CHANNEL_LABELS, dtype=object), kinds), days * rows),
        "kind": kind_labels[kind],
        # `intended` is counted when posts are drawn, separately from the outcomes, so the
        # conservation identity intended = sum of outcomes is a check, not a definition.
        "intended": recorder.intended.reshape(-1),
    }
    for j, name in enumerate(OUTCOME_COLUMNS):
        columns[name] = flat[:, j]
    columns["exposure"] = cell_exposure(recorder, scenario).reshape(-1)
    columns["prohibited"] = np.array(scenario.rules.takedown.prohibited_mask(), dtype=bool)[kind]
    columns["lawful"] = kind_labels[kind] != "unlawful"
    return pd.DataFrame(columns)


def cell_exposure(recorder: Recorder, scenario: Scenario) -> NDArray[np.float64]:
    """The exposure of each ``[day, platform row, channel, kind]`` cell's posts by the
    end of the run (docs/metrics.md "Exposure"; :func:`simulator.model.exposure.cell_exposure`)."""
    counts = recorder.counts
    published = counts[..., Outcome.REMOVED] + counts[..., Outcome.SURVIVING]
    return exposure.cell_exposure(
        published,
        recorder.exposure_cut,
        counts.shape[0],  # the run's days (its horizon)
        float(scenario.population.attention_hours),
        recorder.potential,
    )


def exposure_numbers(
    scenario: Scenario, rules: Recorder, counterfactual: Recorder
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """The harm side (docs/metrics.md "Exposure"): exposure to unlawful posts, the share
    of the counterfactual's prevented (by removal and before publication, adding up),
    and lawful exposure lost; and per kind ``exposure``, ``counterfactual_exposure``,
    ``exposure_cut`` and ``exposure_prevented``."""
    by_kind = cell_exposure(rules, scenario).sum(axis=(0, 1, 2))
    cf_by_kind = cell_exposure(counterfactual, scenario).sum(axis=(0, 1, 2))
    cut_by_kind = rules.exposure_cut[:, :, Channel.PUBLIC].sum(axis=(0, 1))
    unlawful = [ContentKind.UNLAWFUL]
    lawful = list(LAWFUL_KINDS)
    e, e0 = float(by_kind[unlawful].sum()), float(cf_by_kind[unlawful].sum())
    cut = float(cut_by_kind[unlawful].sum())
    lawful_e, lawful_e0 = float(by_kind[lawful].sum()), float(cf_by_kind[lawful].sum())
    top = {
        "unlawful_exposure": e,
        "counterfactual_unlawful_exposure": e0,
        "unlawful_exposure_prevented": _ratio(e0 - e, e0),
        "unlawful_exposure_prevented_by_removal": _ratio(cut, e0),
        "unlawful_exposure_prevented_before_publication": _ratio(e0 - e - cut, e0),
        "lawful_exposure": lawful_e,
        "counterfactual_lawful_exposure": lawful_e0,
        "lawful_exposure_lost": _ratio(lawful_e0 - lawful_e, lawful_e0),
    }
    per_kind = {
        label: {
            "exposure": float(by_kind[k]),
            "counterfactual_exposure": float(cf_by_kind[k]),
            "exposure_cut": float(cut_by_kind[k]),
            "exposure_prevented": _ratio(float(cf_by_kind[k] - by_kind[k]), float(cf_by_kind[k])),
        }
        for k, label in enumerate(KIND_LABELS)
    }
    return top, per_kind


def delays_table(recorder: Recorder) -> pd.DataFrame:
    """Histogram of time from posting to removal: kind, lower_hours, upper_hours, removed."""
    lower = DELAY_EDGES_HOURS[:-1]
    upper = DELAY_EDGES_HOURS[1:]
    frames = [
        pd.DataFrame(
            {
                "kind": label,
                "lower_hours": lower,
                "upper_hours": upper,
                "removed": recorder.delay_counts[k],
            }
        )
        for k, label in enumerate(KIND_LABELS)
    ]
    return pd.concat(frames, ignore_index=True)


def events_table(recorder: Recorder) -> pd.DataFrame:
    columns = ["time_hours", "day", "event", "platform", "user", "kind", "amount", "detail"]
    events = recorder.event_columns()
    if len(events["time_hours"]) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    time = events["time_hours"]
    return pd.DataFrame(
        {
            "time_hours": time,
            "day": np.floor_divide(time, 24).astype(np.int64),  # Python's float //
            "event": events["event"],
            "platform": events["platform"],
            "user": events["user"],
            "kind": events["kind"],
            "amount": events["amount"],
            "detail": events["detail"],
        }
    )


def delay_shares(delay_counts: np.ndarray) -> dict[str, float]:
    """Cumulative share of removals within each mark of :data:`DELAY_MARKS_HOURS`."""
    total = int(delay_counts.sum())
    out = {}
    for name, hours in DELAY_MARKS_HOURS.items():
        upto = int(np.searchsorted(DELAY_EDGES_HOURS, hours, side="right")) - 1
        within = int(delay_counts[..., :upto].sum())
        out[f"removed_within_{name}"] = within / total if total else float("nan")
    return out


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def loss_counts(
    by_kind: NDArray[np.int64], cf_by_kind: NDArray[np.int64], kinds: tuple[int, ...]
) -> dict[str, int]:
    """The posts a group of kinds lost, by mechanism (counts; docs/metrics.md, "Loss by
    mechanism"), from outcome totals ``[kind, outcome]`` of the rules run and of the
    counterfactual.

    ``counterfactual`` is ``surviving⁰`` of the group and ``net`` is ``surviving⁰ −
    surviving``. The parts: ``withheld``, ``excluded``, ``blocked``, ``removed`` (each its
    excess over the counterfactual), ``softened`` (posts of the group said as criticism
    while criticism is not in the group) and ``softened_in`` (minus the posts of other
    kinds said as criticism, when criticism is in the group). Every intended post has one
    fate and a softened one a second as criticism, so the parts add up to ``net``
    exactly; ``net`` is computed from the surviving counts, apart, so that sum is a check.
    """
    group = list(kinds)
    has_critical = ContentKind.CRITICAL in kinds
    others = [k for k in range(by_kind.shape[0]) if k not in kinds]
    softened = by_kind[:, Outcome.SOFTENED]

    def excess(outcome: Outcome) -> int:
        return int(by_kind[group, outcome].sum() - cf_by_kind[group, outcome].sum())

    counts = {
        "counterfactual": int(cf_by_kind[group, Outcome.SURVIVING].sum()),
        "net": int(
            cf_by_kind[group, Outcome.SURVIVING].sum() - by_kind[group, Outcome.SURVIVING].sum()
        ),
        "withheld": excess(Outcome.WITHHELD),
        # A softened post is said as criticism (model.md S3): lost to the group only when
        # criticism is not in it, and a gain to a group with criticism.
        "softened": 0 if has_critical else int(softened[group].sum()),
        "excluded": excess(Outcome.EXCLUDED),
        "blocked": excess(Outcome.BLOCKED),
        "removed": excess(Outcome.REMOVED),
        "softened_in": -int(softened[others].sum()) if has_critical else 0,
    }
    return counts


def loss_shares(counts: dict[str, int]) -> dict[str, float]:
    """:func:`loss_counts` as shares of the counterfactual: each mechanism, ``lost`` (the
    posts of the group lost: every part but ``softened_in``) and ``net``."""
    base = counts["counterfactual"]
    shares = {name: _ratio(counts[name], base) for name in MECHANISMS}
    shares["lost"] = _ratio(sum(counts[name] for name in MECHANISMS[:-1]), base)
    shares["net"] = _ratio(counts["net"], base)
    return shares


def takedown_rate(by_platform_kind: NDArray[np.int64], kinds: list[int]) -> float:
    """Posts of ``kinds`` taken down (blocked or removed) over those that reached a named
    platform (blocked + removed + surviving), from totals ``[platform row, kind, outcome]``
    of the named platforms' rows (circumvention left out: no platform can take its posts
    down)."""
    cells = by_platform_kind[:, kinds]
    down = int(cells[..., Outcome.BLOCKED].sum() + cells[..., Outcome.REMOVED].sum())
    return _ratio(down, down + int(cells[..., Outcome.SURVIVING].sum()))


def _headlines(
    by_kind: NDArray[np.int64], cf_by_kind: NDArray[np.int64], on_platforms: NDArray[np.int64]
) -> dict[str, Any]:
    """The per-group numbers of docs/metrics.md "Political speech" and "Loss by mechanism"."""
    lawful = loss_shares(loss_counts(by_kind, cf_by_kind, tuple(LAWFUL_KINDS)))
    political_counts = loss_counts(by_kind, cf_by_kind, tuple(POLITICAL_KINDS))
    political = loss_shares(political_counts)
    base = political_counts["counterfactual"]
    return {
        "political_speech_lost": political["lost"],
        "political_speech_withheld": political["withheld"],
        "political_speech_excluded": political["excluded"],
        "political_speech_taken_down": political["blocked"] + political["removed"],
        # Calls to act said as criticism: still political speech, so not in the loss.
        "political_speech_softened": _ratio(
            int(by_kind[ContentKind.COLLECTIVE_ACTION, Outcome.SOFTENED]), base
        ),
        "political_speech_added": -political["softened_in"],
        "political_speech_net_loss": political["net"],
        "counterfactual_political_surviving": base,
        "lawful_speech_lost": lawful["lost"],
        "lawful_takedown_rate": takedown_rate(on_platforms, list(LAWFUL_KINDS)),
        "speech_loss_by_mechanism": {name: lawful[name] for name in MECHANISMS},
        "political_speech_by_mechanism": {name: political[name] for name in MECHANISMS},
    }


def believed_counted_columns(
    per_kind: Sequence[float] | NDArray[np.floating] | None,
) -> dict[str, float]:
    """A platform's summary columns ``believed_counted_<kind>`` for the sensitive kinds:
    the chance it gives a post of the kind of being counted in an audit at the end of the
    run (model.md S8, "Learning how much audits find, and where the line is"); 0 without
    takedown duties."""
    return {
        f"believed_counted_{kind.label}": 0.0 if per_kind is None else float(per_kind[kind])
        for kind in SENSITIVE_KINDS
    }


def summarise(
    scenario: Scenario,
    seed: int,
    rules: Recorder,
    counterfactual: Recorder,
    platforms: list[dict[str, Any]],
    users: dict[str, int],
) -> dict[str, Any]:
    """Top-level numbers of a paired run. See docs/metrics.md for each definition."""
    by_kind = rules.counts.sum(axis=(0, 1, 2))  # [kind, outcome]
    cf_by_kind = counterfactual.counts.sum(axis=(0, 1, 2))
    lawful = list(LAWFUL_KINDS)
    prohibited = np.array(scenario.rules.takedown.prohibited_mask(), dtype=bool)
    outcome = {name: int(by_kind[:, i].sum()) for i, name in enumerate(OUTCOME_COLUMNS)}
    intended_by_kind = rules.intended.sum(axis=(0, 1, 2))
    intended = int(intended_by_kind.sum())
    lawful_surviving = int(by_kind[lawful, Outcome.SURVIVING].sum())
    cf_lawful_surviving = int(cf_by_kind[lawful, Outcome.SURVIVING].sum())
    cf_intended_by_kind = counterfactual.intended.sum(axis=(0, 1, 2))
    cf_lawful_intended = int(cf_intended_by_kind[lawful].sum())
    lawful_withheld = int(by_kind[lawful, Outcome.WITHHELD].sum())
    lawful_softened = int(by_kind[lawful, Outcome.SOFTENED].sum())
    # Softened posts are said as criticism: a second fate in the critical row.
    softened_in = np.zeros(N_KINDS, dtype=np.int64)
    softened_in[ContentKind.CRITICAL] = int(by_kind[:, Outcome.SOFTENED].sum())
    taken_down = by_kind[:, Outcome.BLOCKED] + by_kind[:, Outcome.REMOVED]
    total_taken_down = int(taken_down.sum())
    by_reason = rules.excluded_by_reason.sum(axis=(0, 1, 2))  # [kind, reason]
    on_platforms = rules.counts[:, :-1].sum(axis=(0, 2))  # [named platform, kind, outcome]
    harm, kind_exposure = exposure_numbers(scenario, rules, counterfactual)
    per_kind: dict[str, Any] = {}
    for k, label in enumerate(KIND_LABELS):
        row: dict[str, Any] = {name: int(by_kind[k, i]) for i, name in enumerate(OUTCOME_COLUMNS)}
        row["intended"] = int(intended_by_kind[k])
        row["counterfactual_surviving"] = int(cf_by_kind[k, Outcome.SURVIVING])
        row["speech_loss"] = (
            1.0 - _ratio(row["surviving"], row["counterfactual_surviving"])
            if row["counterfactual_surviving"]
            else 0.0
        )
        row["withheld_share"] = _ratio(row["withheld"], int(cf_intended_by_kind[k]))
        row["softened_share"] = _ratio(row["softened"], int(cf_intended_by_kind[k]))
        row["softened_in"] = int(softened_in[k])
        row["taken_down_share"] = _ratio(row["blocked"] + row["removed"], row["intended"])
        row["takedown_rate"] = takedown_rate(on_platforms, [k])
        shares = loss_shares(loss_counts(by_kind, cf_by_kind, (k,)))
        row["lost"] = shares["lost"]
        row["loss_by_mechanism"] = {name: shares[name] for name in MECHANISMS}
        row["prohibited"] = bool(prohibited[k])
        for name, values in rules.tallies.items():
            row[name] = int(values[k])
        row.update(delay_shares(rules.delay_counts[k]))
        row["excluded_by_reason"] = _by_reason(by_reason[k])
        row.update(kind_exposure[label])
        per_kind[label] = row
    summary: dict[str, Any] = {
        "scenario": scenario.name,
        "seed": seed,
        "horizon_days": scenario.horizon_days,
        "users": scenario.population.users,
        # What the money stands for (slice_scale): the represented platform's users.
        "represented_users": scenario.population.represented_users or scenario.population.users,
        "speech_loss": 1.0 - _ratio(lawful_surviving, cf_lawful_surviving)
        if cf_lawful_surviving
        else 0.0,
        "chilling_effect": _ratio(lawful_withheld, cf_lawful_intended),
        **_headlines(by_kind, cf_by_kind, on_platforms),
        "softening_effect": _ratio(lawful_softened, cf_lawful_intended),
        **harm,
        "collateral_share": _ratio(float(taken_down[lawful].sum()), total_taken_down),
        "over_removal_share": _ratio(float(taken_down[~prohibited].sum()), total_taken_down),
        "intended": intended,
        **outcome,
        "taken_down": total_taken_down,
        "lawful_taken_down": int(taken_down[lawful].sum()),
        # Not taken_down - lawful_taken_down: a kind can be both (collective action in China).
        "prohibited_taken_down": int(taken_down[prohibited].sum()),
        "prohibited_missed": _prohibited_missed(scenario, rules),
        "counterfactual_intended": int(cf_intended_by_kind.sum()),
        "counterfactual_lawful_surviving": cf_lawful_surviving,
        **delay_shares(rules.delay_counts),
        # Money is in the scenario's currency: named beside it, never compared unlabelled.
        "currency": scenario.currency,
        "fines_total": float(sum(p["fines_paid"] for p in platforms)),
        "moderation_cost_total": float(sum(p["moderation_cost"] for p in platforms)),
        "excluded_by_reason": _by_reason(by_reason.sum(axis=0)),
        **_population_totals(scenario, rules),
        "users_final": users,
        "events": _event_counts(rules),
        "per_kind": per_kind,
        "platforms": platforms,
    }
    for name, values in rules.tallies.items():
        summary[f"{name}_total"] = int(values.sum())
    if scenario.access.enabled:  # only then: other summaries keep their keys
        summary["access"] = access_split(rules)
    assert len(per_kind) == N_KINDS
    return summary


def _by_reason(counts: NDArray[np.int64]) -> dict[str, int]:
    """Excluded posts by reason (``kinds.EXCLUSION_LABELS``) from counts indexed by
    ``kinds.ExclusionReason`` (NONE left out: nothing is excluded without a reason)."""
    return {
        reason.label: int(counts[reason])
        for reason in ExclusionReason
        if reason.label in EXCLUSION_LABELS
    }


def _population_totals(scenario: Scenario, rules: Recorder) -> dict[str, Any]:
    """Accounts closed, suspended and returned, slots renewed, and the ACTIVE share (at the end and
    averaged over the days) from the ``population_daily`` rows."""
    rows = rules.population_series
    users = scenario.population.users
    shares = [row["active"] / users for row in rows] if users else []
    return {
        "accounts_closed": int(sum(row.get("accounts_closed", 0) for row in rows)),
        "accounts_suspended": int(sum(row.get("accounts_suspended", 0) for row in rows)),
        "accounts_returned": int(sum(row.get("accounts_returned", 0) for row in rows)),
        "users_renewed": int(sum(row.get("users_renewed", 0) for row in rows)),
        "active_share_final": float(shares[-1]) if shares else 1.0,
        "active_share_mean": float(np.mean(shares)) if shares else 1.0,
    }


def _prohibited_missed(scenario: Scenario, rules: Recorder) -> int:
    """Prohibited posts still up at the end on the platforms, on channels the takedown
    duty covers (not offshore, not private messages out of scope)."""
    takedown = scenario.rules.takedown
    prohibited = np.array(takedown.prohibited_mask(), dtype=bool)
    channels = [0, 1] if takedown.private_messages else [0]
    on_platforms = rules.counts[:, :-1][:, :, channels][..., Outcome.SURVIVING]
    return int(on_platforms[..., prohibited].sum())


def access_split(recorder: Recorder) -> dict[str, Any]:
    """Choices when access changes (docs/model.md S9a; docs/metrics.md "Access"), from
    the ``access_choice`` events: the first day with choices (``first_day``, -1 if none),
    that day's stop / move / circumvent counts and shares of those who chose, where the
    movers went, and the run's totals (``return``: circumventers back on a platform that
    serves again); real-name refusers' choices apart (``real_name_refusers``)."""
    columns = recorder.event_columns()
    mine = np.asarray(columns["event"]) == EventKind.ACCESS_CHOICE.value
    all_days = (np.asarray(columns["time_hours"])[mine] // 24).astype(np.int64)
    all_details = [d for d, m in zip(columns["detail"], mine.tolist(), strict=True) if m]
    # Real-name refusers' choices (``refuse:stop``, ``refuse:circumvent``) apart.
    refusals = [d.split(":")[1] for d in all_details if d.startswith("refuse:")]
    service = np.array([not d.startswith("refuse:") for d in all_details], dtype=bool)
    days = all_days[service] if len(all_days) else all_days
    details = [d for d, keep in zip(all_details, service.tolist(), strict=True) if keep]

    def split(chosen: list[str]) -> dict[str, int]:
        out = {"stop": 0, "move": 0, "circumvent": 0, "return": 0}
        for detail in chosen:
            out[detail.split(":")[0]] += 1
        return out

    decided = [d for d in details if d != "return"]
    first_day = int(days[[d != "return" for d in details]].min()) if decided else -1
    first = [d for d, day in zip(details, days.tolist(), strict=True) if day == first_day]
    counts = split(first)
    chose = counts["stop"] + counts["move"] + counts["circumvent"]
    moved_to: dict[str, int] = {}
    for detail in first:
        if detail.startswith("move:"):
            moved_to[detail[5:]] = moved_to.get(detail[5:], 0) + 1
    return {
        "first_day": first_day,
        "first": counts,
        "first_share": {k: _ratio(counts[k], chose) for k in ("stop", "move", "circumvent")},
        "first_moved_to": dict(sorted(moved_to.items())),
        "totals": split(details),
        "real_name_refusers": {k: refusals.count(k) for k in ("stop", "circumvent")},
    }


def _event_counts(recorder: Recorder) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in recorder.event_columns()["event"]:
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))
