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
# # Exercise 6 — An event study: what a campaign did, day by day
#
# **Learning goal.** read an event study: check the days before the event, add up an effect with its interval, and find which part of an intervention carries it.
#
# **Time:** about 25 minutes. Each question has a cell for your work and a self-check:
# put your answer in `answer` and run the cell. Shares can be given as fractions (0.12) or
# percentages (12). Every run uses a fixed seed, so everybody gets the same numbers.

# %%
# %matplotlib inline
from simulator import teaching
from simulator.plots.event_study import event_study_figure

# %% [markdown]
# From day 10 of the exercise's 30 days a **campaign** runs: the settings of the
# `china_rumour_crackdown_2013` scenario's campaign (more monitoring, more detentions,
# and more news of them), in `teaching.CAMPAIGN`. An event study runs the scenario with
# the campaign and without it on the same seeds (`teaching.EVENT_REPS` pairs), so the
# two runs of a pair differ only by the campaign, and follows one outcome day by day:
# here the political posts (critical and collective action) users **withheld**.
# `study.table` has one row per day: `days_since` the campaign's day, the mean with
# the campaign (`treated_mean`), without it (`control_mean`) and of their difference
# (`effect_mean`), each with its 95% interval (`_low`, `_high`);
# `study.per_replication` has each run's series.

# %%
teaching.CAMPAIGN

# %%
study = teaching.study_exercise("ex6")
event_study_figure(study)

# %% [markdown]
# First, the check every event study needs: before its day the campaign changes
# nothing, so the effect on every day before it should be exactly 0 (a decision such as
# withholding is made before the campaign's day the same way with and without it).

# %%
before = study.table[study.table["days_since"] < 0]
before["effect_mean"].abs().max()

# %% [markdown]
# **ex6_q1.** From the campaign's day on (days_since 0 to 19), by how many political posts in all did the campaign change the number users withheld? Add up effect_mean over those days (negative if fewer were withheld).

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex6_q1", answer)

# %% [markdown]
# **ex6_q2.** Is that total clear of zero: does the 95% t-interval of the replications' totals exclude 0? (yes/no)

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex6_q2", answer)

# %% [markdown]
# **ex6_q3.** Which part of the campaign raises political withholding more: its news (teaching.campaign('population.perception')) or its detentions (teaching.campaign('police'))? (news/detentions)

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex6_q3", answer)

# %% [markdown]
# **To discuss.** Count the days whose own interval (`effect_low` to `effect_high`)
# excludes 0, and compare with your answer to ex6_q2: why can a total be clear when most
# single days are not? Then: in the model the news reports cases, each a punished post
# added to what every user believes about detention (docs/model.md, S16), and the
# campaign's news carries cases the 2,000 simulated users do not hold. Why would a model
# whose news reported the day's detentions *per post* (about 0) make a crackdown lower
# withholding? Which users does the news move most: those who post a kind often, or
# those who rarely do?
