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
# # 1. Quick start: run a scenario, read the tables, draw the funnel
#
# censim simulates users, platforms and regulators under censorship rules: real-name
# registration, takedown duties and reporting to the authorities, backed by penalties.
# Every run is **paired** with a counterfactual: the same users, saying the same things,
# on the same random numbers, but with every rule switched off. The difference between
# the two is what the rules did.
#
# This notebook runs the small `classroom` scenario (2,000 users, 60 days, a China-style
# regime), reads its tables and draws the figures that `censim plot` writes.

# %%
# %matplotlib inline
import simulator
from simulator import plots

# %% [markdown]
# ## The scenario
#
# Scenarios are TOML files; the shipped ones are listed by `simulator.shipped_scenarios()`
# (or `censim scenarios`). A loaded scenario is a frozen, validated object.

# %%
print(sorted(simulator.shipped_scenarios()))
scenario = simulator.load_scenario("classroom")
print(scenario.description)
print(f"{scenario.population.users:,} users, {scenario.horizon_days} days, "
      f"platforms: {[p.name for p in scenario.platforms]}")
print("rules:", scenario.rules.model_dump(include={"real_name": {"enabled"},
      "takedown": {"enabled", "prohibited", "vagueness"}, "reporting": {"mode"}}))

# %% [markdown]
# ## Run it
#
# `simulator.run` runs the scenario and its no-rules counterfactual. The same seed gives
# the same numbers, byte for byte, every time on this machine (on another machine almost
# always too: docs/reliability.md, "Across machines", says when not).

# %%
results = simulator.run(scenario, seed=1)
s = results.summary
for key in ["intended", "withheld", "softened", "excluded", "blocked", "removed", "surviving"]:
    print(f"{key:>10}: {s[key]:>9,}")
print(f"speech loss      {s['speech_loss']:.2%}  (lawful posts lost against the no-rules run)")
print(f"chilling effect  {s['chilling_effect']:.2%}  (lawful posts users withheld)")
print(f"collateral share {s['collateral_share']:.2%}  (share of takedowns that were lawful)")

# %% [markdown]
# ## The tables
#
# Everything is also in tidy tables (pandas DataFrames), one row per day x platform x
# channel x content kind for speech, one row per event for enforcement. Every intended
# post has one fate (`withheld`, `softened`, `excluded`, `blocked`, `removed`,
# `surviving`); a softened post (a call to act said as criticism) has a second fate as
# criticism, counted in the critical row. So the outcomes add up to what was intended
# plus what was softened (docs/metrics.md).

# %%
daily = results.daily
display(daily.head())
outcomes = ["withheld", "softened", "excluded", "blocked", "removed", "surviving"]
by_kind = daily.groupby("kind")[["intended", *outcomes]].sum()
display(by_kind)
accounted = daily[outcomes].to_numpy().sum()
assert accounted == daily["intended"].sum() + daily["softened"].sum(), "every post accounted for"

# %%
display(results.events["event"].value_counts().rename("events"))
display(results.population_daily.tail(3))
display(results.platform_daily.tail(4))

# %% [markdown]
# ## The speech funnel
#
# Per content kind, where intended posts went. Read it left to right: of all the posts
# users wanted to write (first bar), some were **withheld** by users themselves (the
# chilling effect), some could not be posted because their authors were **excluded** by
# the real-name rule, some were **blocked** before publication or **removed** after it,
# and the rest **survived**. Look at how much of the critical and collective-action speech
# is lost before any moderator sees it.

# %%
plots.funnel(results)

# %% [markdown]
# ## Over time and time to removal
#
# The time series shows speech, the population's mean perceived risk (it jumps when a
# detention makes the news) and how many users are active. The removal curve shows how
# fast removals happen, against the published Weibo figures of 2012 (crosses).

# %%
plots.time_series(results)

# %%
plots.removal_curve(results)

# %% [markdown]
# ## Saving a run and its figures
#
# `results.write(folder)` writes the tables (CSV) and the summary (JSON);
# `plots.write_all(results, folder)` writes every figure. The command line does the same:
# `censim run classroom --out runs/c1` then `censim plot runs/c1`.

# %%
import tempfile
from pathlib import Path

with tempfile.TemporaryDirectory() as tmp:
    folder = results.write(Path(tmp) / "run")
    again = simulator.Results.read(folder)
    written = plots.write_all(again, Path(tmp) / "figures")
    print(sorted(p.name for p in folder.iterdir()))
    print([p.name for p in written])
# JSON keeps 12 significant digits: the same numbers, to rounding.
assert abs(again.summary["speech_loss"] - results.summary["speech_loss"]) < 1e-9

# %% [markdown]
# **Next:** `02_comparing_regimes` puts four regimes side by side; the other notebooks
# take one mechanism each.
