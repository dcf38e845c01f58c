"""The transparency report each platform would publish, beside what the simulation knows
(docs/metrics.md "notices.csv", "removals.csv", "transparency.csv").

A platform publishes what its regime asks (``rules.transparency.report``):

* ``netzdg`` (NetzDG s.2(2), L5): complaints received by sender type and complaint
  reason (no. 3), complaints that led to a removal (no. 7), the time from complaint to
  removal within 24 hours, 48 hours, a week, or later (no. 8), and, where authors can
  contest removals, counter-notices and reinstatements (s.3b, 2021 amendment);
* ``dsa`` (DSA Art. 15, 24, 17): orders of authorities (Art. 15(1)(a)), notices by
  sender type with trusted flaggers apart, action taken, notices processed by automated
  means and the median time to action (Art. 15(1)(b)), own-initiative moderation and
  the automated detection behind it (Art. 15(1)(c), (e)), complaints and decisions
  reversed (Art. 15(1)(d)), suspensions (Art. 24(1)(b)), average active recipients
  (Art. 24(2)), statements of reasons (Art. 17: one per restriction);
* ``none`` (China's CSL: no public report): nothing is published; the same items as a
  DSA report are written as what the platform knows (``platform_knows``).

Beside it, what only the simulation knows (``hidden``): speech that never reached
anyone, withheld by its author, excluded with its author, or blocked before
publication, and the removals the regime's report leaves out. Every number is a count
of the run's tables (``daily``, ``events``, ``platform_daily``) or of the ledger's
(:class:`simulator.model.notices.NoticeLedger`) written beside them, so each can be
recomputed from the run folder (tests/test_transparency.py does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from simulator.kinds import KIND_LABELS, Action
from simulator.model.notices import ROUTES, SENDERS, WITHIN_HOURS, NoticeLedger

REGIMES = ("none", "netzdg", "dsa")
ALL = "all"
COLUMNS = ["platform", "regime", "part", "item", "sender", "kind", "value"]
WITHIN_COLUMNS = tuple(
    f"removed_within_{int(h)}h" if h < 168 else "removed_within_7d" for h in WITHIN_HOURS
)


def notices_table(ledger: NoticeLedger, names: Sequence[str]) -> pd.DataFrame:
    """``notices.csv``: one row per platform x sender type x kind."""
    rows = []
    for p, name in enumerate(names):
        for s, sender in enumerate(SENDERS):
            for k, kind in enumerate(KIND_LABELS):
                row: dict[str, Any] = {
                    "platform": name,
                    "sender": sender,
                    "kind": kind,
                    "notices": int(ledger.notices[p, s, k]),
                    "removed": int(ledger.notices_removed[p, s, k]),
                    "post_removed": int(ledger.noticed_removed[p, s, k]),
                }
                for mark, column in enumerate(WITHIN_COLUMNS):
                    row[column] = int(ledger.removed_within[mark, p, s, k])
                rows.append(row)
    return pd.DataFrame(rows)


def removals_table(ledger: NoticeLedger, names: Sequence[str]) -> pd.DataFrame:
    """``removals.csv``: removal decisions per platform x route x kind, with the appeals
    against them and the reinstatements."""
    rows = [
        {
            "platform": name,
            "route": Action.NAMES[route],
            "kind": kind,
            "removals": int(ledger.removals[p, route, k]),
            "appealed": int(ledger.appealed[p, route, k]),
            "reinstated": int(ledger.reinstated[p, route, k]),
        }
        for p, name in enumerate(names)
        for route in ROUTES
        for k, kind in enumerate(KIND_LABELS)
    ]
    return pd.DataFrame(rows)


def median_hours(ledger: NoticeLedger, names: Sequence[str]) -> dict[tuple[str, str], float]:
    """Median hours from notice to removal per (platform, sender type or ``all``)."""
    medians = {}
    for p, name in enumerate(names):
        medians[(name, ALL)] = ledger.median_action_hours(p)
        for s, sender in enumerate(SENDERS):
            medians[(name, sender)] = ledger.median_action_hours(p, s)
    return medians


def _sum(frame: pd.DataFrame, column: str, by: str = "kind") -> dict[str, int]:
    """``frame[column]`` summed per value of ``by`` (every kind present, zeros included)."""
    sums = frame.groupby(by, sort=False)[column].sum()
    return {str(key): int(value) for key, value in sums.items()}


def transparency_table(
    regime: str,
    appeals: bool,
    senders: Sequence[str],
    daily: pd.DataFrame,
    events: pd.DataFrame,
    platform_daily: pd.DataFrame,
    notices: pd.DataFrame,
    removals: pd.DataFrame,
    medians: dict[tuple[str, str], float],
) -> pd.DataFrame:
    """``transparency.csv``: per platform, the report under ``regime`` (``appeals``:
    authors can contest removals) and the hidden part; ``senders``: the sender types
    the scenario has (their rows are written, zeros included)."""
    if regime not in REGIMES:
        raise ValueError(f"regime must be one of {REGIMES}, not {regime!r}")
    rows: list[dict[str, Any]] = []
    names = list(dict.fromkeys(notices["platform"])) if len(notices) else []
    for name in names:

        def add(
            part: str,
            item: str,
            value: float,
            sender: str = ALL,
            kind: str = ALL,
            platform: str = name,
        ) -> None:
            rows.append(
                {"platform": platform, "regime": regime, "part": part, "item": item,
                 "sender": sender, "kind": kind, "value": value}
            )  # fmt: skip

        mine = daily[daily["platform"] == name]
        nots = notices[(notices["platform"] == name) & notices["sender"].isin(senders)]
        routes = removals[removals["platform"] == name]
        add("report", "report_published", 0 if regime == "none" else 1)
        part = "platform_knows" if regime == "none" else "report"
        if regime == "netzdg":
            _netzdg(add, part, nots, routes, appeals)
        else:
            _dsa(add, part, name, mine, events, platform_daily, nots, routes, appeals, medians)
        _hidden(add, regime, mine, routes)
    _circumvention(rows, regime, daily)
    return pd.DataFrame(rows, columns=COLUMNS)


#: The ``platform`` of posts made through circumvention tools (no platform's report).
CIRCUMVENTION = "circumvention"


def _circumvention(rows: list[dict[str, Any]], regime: str, daily: pd.DataFrame) -> None:
    """Speech lost on no platform: posts made through circumvention tools and lost to
    their friction (``excluded`` on the ``circumvention`` rows of ``daily.csv``, S15).
    No platform reports them; they belong to the hidden part, so the platforms' hidden
    rows and these add up to the run's withheld, excluded and blocked."""
    offshore = daily[daily["platform"] == CIRCUMVENTION]
    if offshore.empty:
        return
    withheld, excluded, blocked = (_sum(offshore, c) for c in ("withheld", "excluded", "blocked"))
    for kind in withheld:
        values = {
            "withheld": withheld[kind],
            "excluded": excluded[kind],
            "blocked": blocked[kind],
            "hidden_total": withheld[kind] + excluded[kind] + blocked[kind],
        }
        for item, value in values.items():
            rows.append(
                {"platform": CIRCUMVENTION, "regime": regime, "part": "hidden", "item": item,
                 "sender": ALL, "kind": kind, "value": value}
            )  # fmt: skip


def _netzdg(add: Any, part: str, nots: pd.DataFrame, routes: pd.DataFrame, appeals: bool) -> None:
    """NetzDG s.2(2) nos. 3, 7, 8 (and s.3b's counter-notices where there are appeals)."""
    for sender, by_sender in nots.groupby("sender", sort=False):
        for kind, count in _sum(by_sender, "notices").items():
            add(part, "complaints", count, str(sender), kind)
        for kind, count in _sum(by_sender, "removed").items():
            add(part, "removed_on_complaint", count, str(sender), kind)
        removed = int(by_sender["removed"].sum())
        for column in WITHIN_COLUMNS:
            add(part, column, int(by_sender[column].sum()), str(sender))
        add(part, "removed_later", removed - int(by_sender[WITHIN_COLUMNS[-1]].sum()), str(sender))
    if appeals:
        on_notice = routes[routes["route"] == "notice"]
        for kind, count in _sum(on_notice, "appealed").items():
            add(part, "counter_notices", count, kind=kind)
        for kind, count in _sum(on_notice, "reinstated").items():
            add(part, "reinstated", count, kind=kind)


def _dsa(
    add: Any,
    part: str,
    name: str,
    mine: pd.DataFrame,
    events: pd.DataFrame,
    platform_daily: pd.DataFrame,
    nots: pd.DataFrame,
    routes: pd.DataFrame,
    appeals: bool,
    medians: dict[tuple[str, str], float],
) -> None:
    """DSA Art. 15(1)(a)-(e), 24(1)(b), 24(2) and 17 (statements of reasons)."""
    here = events[events["platform"] == name] if len(events) else events
    orders = here[here["event"] == "order"] if len(here) else here
    for kind in KIND_LABELS:
        add(part, "orders_received", int((orders["kind"] == kind).sum()) if len(orders) else 0,
            kind=kind)  # fmt: skip
    by_route = {route: routes[routes["route"] == route] for route in ("order", "notice", "flag")}
    for kind, count in _sum(by_route["order"], "removals").items():
        add(part, "removed_on_order", count, kind=kind)
    for sender, by_sender in nots.groupby("sender", sort=False):
        for kind, count in _sum(by_sender, "notices").items():
            add(part, "notices", count, str(sender), kind)
        for kind, count in _sum(by_sender, "removed").items():
            add(part, "notices_actioned", count, str(sender), kind)
        # Every notice is decided by a human reviewer (docs/model.md S7).
        add(part, "notices_processed_automatically", 0, str(sender))
        add(part, "median_hours_to_action", medians.get((name, str(sender)), np.nan), str(sender))
    add(part, "median_hours_to_action", medians.get((name, ALL), np.nan))
    blocked = _sum(mine, "blocked")
    for kind, count in _sum(by_route["flag"], "removals").items():
        add(part, "own_initiative_removals", count, kind=kind)
    for kind, count in blocked.items():
        add(part, "own_initiative_blocked", count, kind=kind)
    # The filter finds every own-initiative case (held or flagged, S4, S5).
    own = int(by_route["flag"]["removals"].sum()) + sum(blocked.values())
    add(part, "own_initiative_automated_detection", own)
    for kind, count in _sum(routes, "removals").items():
        add(part, "statements_of_reasons", count + blocked.get(kind, 0), kind=kind)
    if appeals:
        for kind, count in _sum(routes, "appealed").items():
            add(part, "complaints", count, kind=kind)
        for kind, count in _sum(routes, "reinstated").items():
            add(part, "complaints_reversed", count, kind=kind)
    suspended = (
        int(here["event"].isin(["account_suspended", "account_closed"]).sum()) if len(here) else 0
    )
    add(part, "account_suspensions", suspended)
    active = platform_daily.loc[platform_daily["platform"] == name, "active_users"]
    add(part, "mean_active_recipients", float(active.mean()) if len(active) else 0.0)


def _hidden(add: Any, regime: str, mine: pd.DataFrame, routes: pd.DataFrame) -> None:
    """What no report shows: speech that never reached anyone, and the removals the
    regime's report leaves out."""
    withheld, excluded, blocked = (
        _sum(mine, "withheld"),
        _sum(mine, "excluded"),
        _sum(mine, "blocked"),
    )
    for kind in withheld:
        add("hidden", "withheld", withheld[kind], kind=kind)
        add("hidden", "excluded", excluded[kind], kind=kind)
        add("hidden", "blocked", blocked[kind], kind=kind)
        add("hidden", "hidden_total", withheld[kind] + excluded[kind] + blocked[kind], kind=kind)
    for kind, count in _sum(mine, "softened").items():
        add("hidden", "softened", count, kind=kind)
    removed = _sum(routes, "removals")
    in_report = _sum(routes[routes["route"] == "notice"], "removals") if regime == "netzdg" else {}
    for kind, count in removed.items():
        unreported = 0 if regime == "dsa" else count - in_report.get(kind, 0)
        add("hidden", "removals_not_in_report", unreported, kind=kind)


#: The kinds :func:`visible_and_hidden` counts by default: the sensitive ones (benign
#: posts of excluded authors would fill the picture, and no one reports on them).
SENSITIVE = ("critical", "collective_action", "unlawful")

#: :func:`visible_and_hidden`'s parts, visible first.
PARTS = ("in_report", "removed_not_in_report", "blocked_not_in_report", "withheld", "excluded")


def visible_and_hidden(
    transparency: pd.DataFrame, kinds: Sequence[str] = SENSITIVE
) -> pd.DataFrame:
    """Per platform, posts of ``kinds`` taken down or never said, split into what the
    regime's report counts (``in_report``: NetzDG's removals on complaints, the DSA's
    statements of reasons, nothing under ``none``) and what it does not (removals and
    blocks left out, withheld and excluded posts). ``in_report + removed_not_in_report +
    blocked_not_in_report`` is every removal decision and block."""
    rows = []
    for name, mine in transparency.groupby("platform", sort=False):
        regime = str(mine["regime"].iloc[0])
        chosen = mine[mine["kind"].isin(kinds)]

        def total(part: str, item: str, rows: pd.DataFrame = chosen) -> float:
            picked = rows[(rows["part"] == part) & (rows["item"] == item)]
            return float(picked["value"].sum())

        blocked = total("hidden", "blocked")
        in_report = {
            "netzdg": total("report", "removed_on_complaint"),
            "dsa": total("report", "statements_of_reasons"),
        }.get(regime, 0.0)
        rows.append(
            {
                "platform": name,
                "regime": regime,
                "in_report": in_report,
                "removed_not_in_report": total("hidden", "removals_not_in_report"),
                "blocked_not_in_report": 0.0 if regime == "dsa" else blocked,
                "withheld": total("hidden", "withheld"),
                "excluded": total("hidden", "excluded"),
            }
        )
    return pd.DataFrame(rows, columns=["platform", "regime", *PARTS])


SENDER_COLUMNS = [
    "platform", "sender", "notices", "removed", "post_removed", "unlawful",
    "acted_on", "post_removed_share", "about_unlawful",
]  # fmt: skip


def sender_outcomes(notices: pd.DataFrame) -> pd.DataFrame:
    """Per platform and sender type: notices, removals on them, noticed posts removed by
    any route, notices about unlawful posts, and as shares of the notices (NaN without
    notices): ``acted_on`` (removed), ``post_removed_share``, ``about_unlawful`` (the
    sender's accuracy)."""
    if notices.empty:
        return pd.DataFrame(columns=SENDER_COLUMNS)
    frame = notices.assign(unlawful=notices["notices"].where(notices["kind"] == "unlawful", 0))
    columns = ["notices", "removed", "post_removed", "unlawful"]
    sums = frame.groupby(["platform", "sender"], sort=False)[columns].sum().reset_index()
    sent = sums["notices"].where(sums["notices"] > 0)
    sums["acted_on"] = sums["removed"] / sent
    sums["post_removed_share"] = sums["post_removed"] / sent
    sums["about_unlawful"] = sums["unlawful"] / sent
    return sums[SENDER_COLUMNS]
