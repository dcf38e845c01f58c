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
# # 4. The chilling effect: visibility, vagueness, detentions
#
# Users cannot see the line. Each user holds a **perceived probability** of removal and of
# detention for each kind of post, learned from the enforcement they see (their own
# removals, their friends' removals and detentions, detentions in the news) and fading
# back to the prior over time. A post is withheld (or softened: a call to act said as a
# complaint) when its expected cost, probability times what the sanction costs, outweighs
# what saying it is worth to the user (their desire and boldness). With a vague rule,
# lawful kinds that merely look close to the line (criticism, collective action) feel
# risky too.
#
# Three levers, each on the `classroom` scenario at 1,000 users and 30 days, three
# replications each:
# - `population.perception.visibility`: how much of the enforcement users get to see;
# - `rules.takedown.vagueness`: 0 a bright line, 1 anything sensitive may be prohibited;
# - detentions: `police.detention_probability.*` set to 0.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import simulator
from simulator import plots

# %%
from simulator.streams import replication_seeds

base = simulator.override(simulator.load_scenario("classroom"),
                          {"population.users": 1000, "horizon_days": 30})
SEEDS = replication_seeds(4, 3)

def chilling(changes):
    scenario = simulator.override(base, changes)
    values = [simulator.run(scenario, seed=s).summary["chilling_effect"] for s in SEEDS]
    return np.mean(values), np.std(values, ddof=1) / np.sqrt(len(values))

rows = []
for v in [0.0, 0.25, 0.5, 1.0]:
    rows.append(("visibility", v, *chilling({"population.perception.visibility": v})))
for v in [0.0, 0.3, 0.6, 1.0]:
    rows.append(("vagueness", v, *chilling({"rules.takedown.vagueness": v})))
table = pd.DataFrame(rows, columns=["lever", "value", "chilling_effect", "standard_error"])
table.round(4)

# %%
with plots.style():
    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    for (lever, part), marker, ls in zip(table.groupby("lever"), "os", ["-", "--"], strict=True):
        ax.errorbar(part["value"], 100 * part["chilling_effect"], yerr=100 * part["standard_error"],
                    marker=marker, linestyle=ls, capsize=3, label=lever)
    ax.set_xlabel("lever value (0-1)")
    ax.set_ylabel("chilling effect (% of lawful posts withheld)")
    ax.set_title("Chilling effect by lever (mean ± 1 standard error, 3 runs)")
    ax.legend()
fig

# %% [markdown]
# What to look at: with nothing visible, almost nothing is chilled; users cannot fear what
# they do not see. With a bright line (vagueness 0) users still withhold what is
# prohibited (including collective-action posts, lawful by international standards but
# prohibited by this regime, hence the chilling that remains), but criticism is spared.
#
# ## Detentions
#
# Detentions are rare but loud: each one reaches every user through the news and the
# detainee's friends. Compare the perceived probability of detention for a call to act
# with and without them.

# %%
NO_DETENTIONS = {f"police.detention_probability.{k}": 0.0
                 for k in ["critical", "collective_action", "unlawful"]}
with_police = simulator.run(base, seed=SEEDS[0])
without = simulator.run(simulator.override(base, NO_DETENTIONS), seed=SEEDS[0])
print(f"detentions: {with_police.summary['users_final']['detained_ever']} vs "
      f"{without.summary['users_final']['detained_ever']}")
print(f"chilling effect: {with_police.summary['chilling_effect']:.2%} vs "
      f"{without.summary['chilling_effect']:.2%}")

with plots.style():
    fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
    column = "mean_p_detention_collective_action"
    ax.plot(with_police.population_daily["day"], with_police.population_daily[column],
            color="black", label="with detentions")
    ax.plot(without.population_daily["day"], without.population_daily[column],
            color="#0072B2", linestyle="--", label="no detentions")
    ax.set_xlabel("day of the run")
    ax.set_ylabel("mean perceived P(detention)\nof a call to act")
    ax.legend()
fig

# %%
plots.time_series(with_police)

# %% [markdown]
# **Discuss:** Roberts (2018; C6 in [docs/references.md](../docs/references.md)) finds
# that being censored oneself chills little, while visible punishment of others does.
# Which parameters of `population.perception` encode that, and what would you change to
# test it?
