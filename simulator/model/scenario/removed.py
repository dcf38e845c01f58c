"""Scenario fields that no longer exist, and what replaced them (issue 16).

An old scenario file that sets one is refused with a message naming the replacement,
not the generic "unknown field". Keys are dotted paths without list indices
(``platforms.penalty_memory_half_life_days`` matches every platform).
"""

from __future__ import annotations

REMOVED_FIELDS: dict[str, str] = {
    "platforms.penalty_memory_half_life_days": (
        "removed: platforms no longer carry a decaying 'fear' of penalties; they weigh the "
        "expected penalty per audit and learn how often audits come "
        "(use platforms.audit_belief_days and platforms.believed_audits_per_year)"
    ),
    # Users decide by expected utility and learn Beta beliefs per kind (docs/model.md S3, S16).
    "population.perception.initial_risk": (
        "removed: users hold Beta beliefs per kind (use population.perception."
        "initial_removal, initial_detention and initial_trials)"
    ),
    "population.perception.own_sanction_weight": (
        "removed: one's own sanction is Beta evidence of weight 1 (what it costs is "
        "population.speech.removal_cost)"
    ),
    "population.perception.neighbour_removal_weight": (
        "removed: use population.perception.friend_evidence_weight"
    ),
    "population.perception.neighbour_detention_weight": (
        "removed: use population.perception.friend_detention_weight"
    ),
    "population.perception.news_weight": (
        "removed: use population.perception.news_case_weight"
    ),
    "population.perception.news_case_weight": (
        "removed: the news reports cases, not a rate carried by pseudo-posts a day: use "
        "population.perception.news_case_weight (posts each detention per 100,000 users "
        "counts for)"
    ),
    "population.perception.real_name_risk": (
        "removed: a traceable user is always identified, and fears detention "
        "1 / police.identify_anonymous_probability times as much"
    ),
    "regulator.audit_sample_share": (
        "removed: an audit inspects a fixed number of posts, not a share of the window's "
        "posts, so what it finds does not grow with the simulated population "
        "(use regulator.audit_sample_size, posts per audit)"
    ),
    "platforms.wrongful_removal_cost": (
        "removed: goodwill is charged on the share of a platform's posts that are lawful "
        "and taken down, not per post, so the policy does not depend on the simulated "
        "population (use platforms.wrongful_removal_daily_cost: currency per day per unit "
        "share; the old per-post cost times the platform's posts per day)"
    ),
    "platforms.reviewers": (
        "removed: staff is stated per 100,000 of the platform's users, as platforms report "
        "it, so the queue's load does not depend on the simulated population (use "
        "platforms.reviewers_per_100k_users, full-time reviewers per 100,000 users, 0 or "
        "more; a count N at U users and market share s is N x 100000 / (U x s))"
    ),
    "police.investigators": (
        "removed: investigators are stated per 100,000 users, so how many reports end in "
        "detention does not depend on the simulated population (use "
        "police.investigators_per_100k_users, full-time investigators per 100,000 users, "
        "0 or more; a count N at U users is N x 100000 / U)"
    ),
    "platforms.flag_mean_delay_hours": (
        "removed: flags arrive at the filter's keyword sweeps; set "
        "platforms.sweep_interval_hours (hours between sweeps, 0 = real time) instead"
    ),
    "population.notices.mean_delay_hours": (
        "removed: notices arrive as the post's views come; set "
        "population.attention_hours (time scale of a post's views) instead"
    ),
    "regulator.monitoring_mean_delay_hours": (
        "removed: orders arrive as the post's views come; set "
        "population.attention_hours (time scale of a post's views) instead"
    ),
}


def replacement(loc: tuple[int | str, ...]) -> str | None:
    """The message for a removed field at ``loc`` (a validation error location), if any."""
    return REMOVED_FIELDS.get(".".join(str(part) for part in loc if not isinstance(part, int)))


def replacement_for_path(dotted: str) -> str | None:
    """The message for a removed field named by a dotted override path, where a list
    item may be named by index or by name (``platforms.weibo.penalty_memory_half_life_days``)."""
    parts = dotted.split(".")
    candidates = [dotted] + [".".join(parts[:i] + parts[i + 1 :]) for i in range(1, len(parts) - 1)]
    for candidate in candidates:
        if candidate in REMOVED_FIELDS:
            return REMOVED_FIELDS[candidate]
    return None
