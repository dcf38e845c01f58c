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
# # 7. The policy frontier: lawful speech lost against unlawful exposure prevented
#
# A take-down rule has a cost (lawful posts lost) and a benefit: fewer people see
# unlawful posts. censim measures the benefit as **exposure**, the views a public post
# gets while it is up (docs/model.md S5b):
#
# $$E = a\,\bigl(1 - e^{-(t_\mathrm{removed} - t_\mathrm{published})/\tau}\bigr)$$
#
# with `a` the author's audience (degree over the mean degree) and `τ` the time scale of
# a post's views (`population.attention_hours`, 1.44 h: half of retweets come within an
# hour). Each run is paired with its no-rules counterfactual on the same random numbers,
# so `unlawful_exposure_prevented` is the share of the no-rules exposure the rules took
# away (docs/metrics.md, "Exposure"). Small runs here (3,000 users, 30 days): a few
# seconds each.

# %%
# %matplotlib inline
import tempfile

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import simulator
from simulator.experiments import policy_frontier
from simulator.model import exposure
from simulator.plots.frontier import frontier_figure

# %% [markdown]
# ## One run: how much exposure a regime prevents, and how
#
# Germany's NetzDG: users notify, the platform must remove manifestly unlawful posts
# within 24 hours. The prevented share splits into posts taken down (their views after
# the take-down) and posts never published (withheld by their authors, blocked).

# %%
scenario = simulator.override(simulator.load_scenario("germany_netzdg_2017"),
                              {"population.users": 3000, "horizon_days": 30})
s = simulator.run(scenario, seed=1).summary
pd.Series({key: s[key] for key in [
    "unlawful_exposure", "counterfactual_unlawful_exposure", "unlawful_exposure_prevented",
    "unlawful_exposure_prevented_by_removal", "unlawful_exposure_prevented_before_publication",
    "lawful_exposure_lost", "lawful_speech_lost", "removed_within_1h"]})

# %% [markdown]
# ## Why speed matters (Truong et al. 2025)
#
# A post taken down `D` hours after publication has lost `e^{-D/τ}` of its views to the
# take-down: most of the benefit is in the first hours. With τ = 13 h (Facebook news
# posts: 90% of engagement within 30 hours) it lasts longer, but is gone after a few
# days either way.

# %%
hours = np.linspace(0, 72, 400)
fig = Figure(figsize=(6, 3.2), layout="constrained")
ax = fig.add_subplot()
for tau, label in [(1.4427, "τ = 1.44 h (Kwak et al. 2010)"),
                   (13.0, "τ = 13 h (Goldstein et al. 2023)")]:
    prevented = exposure.cut_exposure(0.0, hours, np.inf, 1.0, tau)
    ax.plot(hours, 100 * prevented, label=label)
ax.set_xlabel("hours from publication to removal")
ax.set_ylabel("views prevented (% of the post's)")
ax.set_title("What a take-down prevents, by its delay (one post)")
ax.legend()
fig

# %% [markdown]
# ## The frontier: deadlines and review staff
#
# `policy_frontier` runs every combination of the levers with paired replications
# (`censim frontier` on the command line). Review staff sets how fast posts come down;
# the deadline is a legal line the regulator checks.

# %%
out = tempfile.mkdtemp(prefix="frontier_")
frontier = policy_frontier(
    "germany_netzdg_2017", deadline_hours=[1, 168], reviewers=[1, 5, 20], reps=2,
    users=3000, days=30, workers=0, out=out, check_resources=False,
)
columns = ["deadline_hours", "reviewers_per_100k_users", "lawful_speech_lost_mean",
           "unlawful_exposure_prevented_mean", "removed_within_1h_mean", "efficient"]
frontier.table[columns].round(4)

# %%
frontier_figure(frontier)

# %% [markdown]
# What to read in it:
#
# - **Staff buys exposure prevented, and costs lawful speech**: more reviewers remove
#   unlawful posts within the hour, while they are still being seen, and also remove
#   more lawful posts by mistake. Every staffing level is on the frontier: none is
#   better on both counts, so choosing among them is a value judgement.
# - **The deadline moves nothing here**: a 1-hour and a 7-day deadline give the same
#   runs, because this platform is never fined; in censim a deadline works only through
#   the penalties that make a platform faster (docs/experiments.md, "The policy
#   frontier").
#
# Try: `fines=[1, 10]`, or `--set platforms.main.staffing="chosen"` with few reviewers
# and frequent audits (`regulator.audits_per_year`), to see when a deadline bites.
