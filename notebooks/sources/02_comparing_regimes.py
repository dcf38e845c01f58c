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
# # 2. Comparing regimes: no rules, NetzDG, the DSA and China's Cybersecurity Law
#
# The same machinery expresses very different regimes as data:
#
# | scenario | what it is |
# |---|---|
# | `open_baseline` | no rules: the yardstick |
# | `germany_netzdg_2017` | Germany's NetzDG: takedown within 24 h / 7 days of a notice, fines |
# | `eu_dsa_2024` | the EU Digital Services Act: notice and action, appeals, turnover fines |
# | `china_csl_2016` | China's Cybersecurity Law: real names, deletion, reporting, licences |
#
# To run in seconds we shrink each to the same population and horizon with
# `simulator.override`, and run each several times (replications with independent seeds
# from `simulator.streams.replication_seeds`) to see how much of a difference is noise.

# %%
# %matplotlib inline
import pandas as pd

import simulator
from simulator import plots

# %%
from simulator.streams import replication_seeds

NAMES = ["open_baseline", "germany_netzdg_2017", "eu_dsa_2024", "china_csl_2016"]
SIZE = {"population.users": 2000, "horizon_days": 45}
SEEDS = replication_seeds(2024, 3)   # the same seeds for every regime

runs = {}
for name in NAMES:
    scenario = simulator.override(simulator.load_scenario(name), SIZE)
    runs[name] = [simulator.run(scenario, seed=seed, replication=i) for i, seed in enumerate(SEEDS)]
print({name: len(r) for name, r in runs.items()})

# %% [markdown]
# ## The headline numbers, with 95% intervals
#
# `plots.comparison_table` gives each metric's mean over replications and its Student-t
# 95% interval. **Speech loss** counts lawful posts lost against the no-rules run;
# the **chilling effect** the lawful posts users withheld; the **collateral share** the
# share of takedowns that hit lawful speech.

# %%
table = plots.comparison_table(runs)
metrics = ["speech_loss", "chilling_effect", "collateral_share"]
columns = ["regime", "replications"]
columns += [f"{m}_{part}" for m in metrics for part in ("mean", "ci_low", "ci_high")]
table[columns].round(4)

# %%
plots.comparison(runs)

# %% [markdown]
# What to look at: the baseline loses nothing (it is its own counterfactual). The two
# European regimes take down prohibited content after notices and chill next to nothing,
# since nobody is detained and users learn little fear from the enforcement they see;
# some lawful posts are still taken down by mistake (the collateral share). The Chinese
# regime loses far more lawful speech, and most of that loss is not takedowns at all:
# users withhold posts and some are excluded by the real-name rule (see the funnels).
#
# ## Where the speech goes, regime by regime
#
# The funnels of one replication each, for the kinds that carry political speech, as
# shares of intended posts.

# %%
for name in NAMES:
    display(plots.funnel(runs[name][0], kinds=["critical", "collective_action"], share=True))

# %% [markdown]
# ## How fast?
#
# The share of removals within 8 minutes, 30 minutes, 1 hour and 24 hours (mean over
# replications; empty for the baseline, which removes nothing). Compare them with the
# deadlines each law sets (24 hours for manifestly unlawful content under NetzDG) and
# with the Weibo figures of 2012 (about 5%, 30% and 90% within 8 min, 30 min and 24 h:
# C2 in [docs/references.md](../docs/references.md)). Does a deadline describe how fast
# removal actually is?

# %%
marks = ["8min", "30min", "1h", "24h"]
speed = pd.DataFrame({
    name: {m: pd.Series([r.summary[f"removed_within_{m}"] for r in reps], dtype=float).mean()
           for m in marks}
    for name, reps in runs.items()
}).T
speed.round(3)

# %%
plots.removal_curve(runs["china_csl_2016"][0])

# %% [markdown]
# **Caveat.** These are reduced runs (2,000 users, 45 days): fine for seeing mechanisms,
# too small for numbers to quote. For that, run the full scenarios with
# `censim compare open_baseline germany_netzdg_2017 eu_dsa_2024 china_csl_2016 --reps 10 --out cmp/`.
