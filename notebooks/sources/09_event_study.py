# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 9. An event study: the 2013 "rumour" crackdown
#
# A scenario's **timeline** changes settings on a given day (docs/scenarios.md,
# "Timelines"). An **event study** asks what one timeline entry did, day by day: it runs
# the scenario with the entry (*treated*) and without it (*control*) on the same seeds,
# so the two runs of a pair share every random stream and differ only by the entry, and
# repeats the pair on independent seeds for an interval (docs/experiments.md, "Event
# studies"). The first study below, from the command line:
# `censim event-study china_rumour_crackdown_2013 --entry rumour_crackdown --users 2000
# --days 50 --kinds benign,critical,collective_action,unlawful`.
#
# The scenario here is `china_rumour_crackdown_2013`: Weibo as in `china_weibo_2012`,
# with the campaign against online "rumours" that followed the arrests of prominent
# microbloggers in August 2013 (L4 and [Big V 2013] in
# [docs/references.md](../docs/references.md); every size in the entry is an ASSUMPTION).

# %%
# %matplotlib inline
import time

import pandas as pd

import simulator
from simulator.experiments.tables import t_interval
from simulator.kinds import KIND_LABELS
from simulator.plots.event_study import event_study_figure

shipped = simulator.load_scenario("china_rumour_crackdown_2013")
print(shipped.description)

# %% [markdown]
# ## What the timeline entry does
#
# The entry's day, how long it lasts, and each setting it changes, beside the value the
# scenario has without it.

# %%
(entry,) = shipped.timeline
print(f"{entry.name}: from day {entry.day} for {entry.days} days. {entry.description}")
print(f"source: {entry.source}")


def value_at(scenario, path):
    """The value of a dotted path in a scenario."""
    node = scenario.to_dict()
    for part in path.split("."):
        node = node[part]
    return node


pd.DataFrame(
    [{"setting": path, "without the entry": value_at(shipped, path), "with it": value}
     for path, value in entry.set.items()]
).set_index("setting")

# %% [markdown]
# ## The study
#
# 2,000 users and 50 days (the entry's day stays at 22, so 22 days before it and 28
# after), 8 pairs of runs. The outcome is the number of posts users **withheld** (wanted
# to write and did not), summed over every kind of post and every platform, day by day.

# %%
SMALL = {"population.users": 2000, "horizon_days": 50}
scenario = simulator.override(shipped, SMALL)
ALL_KINDS = tuple(KIND_LABELS)
started = time.perf_counter()
study = simulator.event_study(scenario, "rumour_crackdown", reps=8, outcome="withheld",
                              kinds=ALL_KINDS)
print(f"{2 * study.reps} runs in {time.perf_counter() - started:.1f} s; "
      f"event on day {study.event_day}")
study.table.head()

# %% [markdown]
# Above: the outcome with the entry (treated) and without it (control), each the mean
# over the 8 replications with its 95% t band; below: their paired difference, the
# effect, with its band. Day 0 is the entry's day.

# %%
event_study_figure(study)

# %% [markdown]
# ## The pre-period
#
# Before its day the entry changes nothing, and the two runs of a pair share their
# random streams, so every decision before the entry's day is the same in both:
# the effect on withheld posts before day 0 must be exactly 0, not just small. (Outcomes
# counted by a post's fate, `removed` and `surviving`, are counted on the day the post
# was published, so a removal after the entry's day can move them before it.) A
# non-zero pre-period here would mean the control is not a counterfactual.

# %%
table = study.table
pre, post = table[table["days_since"] < 0], table[table["days_since"] >= 0]
print(f"{len(pre)} days before the entry; largest |effect| on them: "
      f"{pre['effect_mean'].abs().max()}")
assert (pre["effect_mean"] == 0).all() and (pre["effect_low"] == 0).all()

# %% [markdown]
# ## The post-period
#
# Each day's effect has its own interval, from 8 replications. The effect summed over
# the entry's days has one interval too: each replication's total, then the t-interval
# of the 8 totals. Below: the total with its interval, how many single days are clear of
# zero on their own, and every fourth day of the table.

# %%
def post_totals(study):
    """Each replication's effect added up over the days from the entry's day on."""
    rows = study.per_replication[study.per_replication["day"] >= study.event_day]
    return (rows["treated"] - rows["control"]).groupby(rows["replication"]).sum()


def summarise(study):
    post = study.table[study.table["days_since"] >= 0]
    totals = post_totals(study)
    mean, low, high, n = t_interval(totals.to_numpy())
    clear = ((post["effect_low"] > 0) | (post["effect_high"] < 0)).sum()
    control = post["control_mean"].sum()
    print(f"{study.outcome}: without the entry {control:.1f} over the {len(post)} days; "
          f"effect {mean:+.1f} (95% CI {low:+.1f} to {high:+.1f}, {n} replications), "
          f"{mean / control:+.1%} of the control")
    print(f"  days whose own interval excludes 0: {clear} of {len(post)}")
    print(f"  each replication's total: {totals.round(1).tolist()}")
    return mean, low, high


withheld_effect = summarise(study)
post.iloc[::4][["days_since", "control_mean", "treated_mean", "effect_mean", "effect_low",
                "effect_high"]].round(2)

# %% [markdown]
# ## Which part of the entry?
#
# The entry changes several settings at once. Two more event studies split it: the news
# alone (`population.perception.*`: each detention in the news weighs more, and the news
# carries the campaign's own cases, which a sample of 2,000 users does not hold), and
# everything else (monitoring and detentions) alone. In the model the news reports cases,
# each one a punished post added to what every user believes about detention
# (docs/model.md, S16): the news reports the punished, not the many who spoke
# unpunished, so it can only raise that belief; with no cases it fades.

# %%
NEWS = "population.perception."


def with_only(settings):
    """The small scenario with the entry changing only ``settings``."""
    part = {**entry.model_dump(), "set": settings}
    return simulator.override(scenario, {"timeline": [part]})


parts = {
    "news only": {k: v for k, v in entry.set.items() if k.startswith(NEWS)},
    "monitoring and detentions only": {
        k: v for k, v in entry.set.items() if not k.startswith(NEWS)
    },
}
rows = []
for label, settings in parts.items():
    part_study = simulator.event_study(with_only(settings), "rumour_crackdown", reps=8,
                                       outcome="withheld", kinds=ALL_KINDS)
    mean, low, high, _ = t_interval(post_totals(part_study).to_numpy())
    rows.append({"entry": label, "effect": mean, "low": low, "high": high})
rows.append(dict(zip(["entry", "effect", "low", "high"], ["all of it", *withheld_effect],
                     strict=True)))
pd.DataFrame(rows).set_index("entry").round(1)

# %% [markdown]
# ## A second outcome: posts of excluded users
#
# `excluded` counts the posts of authors who had no access when they meant to write:
# detained, account suspended or closed, locked out of a platform (docs/metrics.md).
# The same study, on that outcome. Compare its replications' totals with those of
# withheld posts: a withheld post is one decision of one user, an excluded user loses
# every post for as long as the exclusion lasts.

# %%
excluded = simulator.event_study(scenario, "rumour_crackdown", reps=8, outcome="excluded",
                                 kinds=ALL_KINDS)
assert (excluded.table.loc[excluded.table["days_since"] < 0, "effect_mean"] == 0).all()
excluded_effect = summarise(excluded)
event_study_figure(excluded)

# %% [markdown]
# **To try.** Follow political speech only (`kinds=("critical", "collective_action")`,
# the default) or another outcome (`blocked`, `removed`); run the study at 5,000 users
# (`simulator.override(shipped, {"population.users": 5000, "horizon_days": 50})`) and
# compare the intervals; split the entry
# further (the detentions alone). Exercise 6 (`exercises/ex6_event_study.ipynb`) asks
# these questions of the `classroom` scenario.
