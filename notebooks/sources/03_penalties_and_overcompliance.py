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
# # 3. Penalties and over-compliance
#
# Platforms are fined for what they **miss**, never for what they **over-remove**. Each
# day a platform sets its strictness to the level that minimises its expected cost: the
# chance that an audit finds more violations than the regulator tolerates, times the
# penalty that audit would bring; a lawful post removed by mistake costs only a little
# goodwill. So the bigger the penalty, the lower the bar for removal, and the more lawful
# speech goes with it: **collateral censorship**, coming out of the mechanics rather than
# being written in.
#
# We take the `classroom` scenario (1,000 users, 30 days), give the regulator a short
# ladder (a warning that costs nothing, then a fine), and sweep the fine with a plain loop
# over `simulator.override` and `simulator.run`.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd

import simulator
from simulator import plots

# %%
base = simulator.override(simulator.load_scenario("classroom"), {
    "population.users": 1000, "horizon_days": 30,
    "rules.penalties.warning_cost": 0.0,
})
FINES = [0, 1e3, 1e4, 1e5, 1e6]
rows, fine_runs = [], {}
for fine in FINES:
    ladder = [{"action": "warning"}, {"action": "fine", "amount": fine}]
    results = simulator.run(simulator.override(base, {"rules.penalties.ladder": ladder}), seed=11)
    fine_runs[fine] = results
    s = results.summary
    rows.append({
        "fine": fine,
        "strictness": s["platforms"][0]["mean_strictness"],
        "lawful_taken_down": s["lawful_taken_down"],
        # Collective action is prohibited and lawful: it counts in both columns.
        "prohibited_taken_down": s["prohibited_taken_down"],
        "collateral_share": s["collateral_share"],
        "speech_loss": s["speech_loss"],
        "fines_paid": s["fines_total"],
    })
sweep = pd.DataFrame(rows)
sweep.round(3)

# %% [markdown]
# Look at the first two columns: nobody has to be fined for strictness to rise. The
# **threat** is enough (the `fines_paid` column stays at or near zero). Then compare the
# growth of lawful and prohibited takedowns as the fine grows.

# %%
with plots.style():
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
    x = [max(f, 100) for f in FINES]   # a fine of 0 drawn at 100 on the log axis
    axes[0].plot(x, sweep["strictness"], marker="o", color="black")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("fine for a violation (CNY, log scale; 0 shown at 100)")
    axes[0].set_ylabel("weibo's mean strictness (0-1)")
    axes[0].set_title("Strictness follows the threat")
    axes[1].plot(x, sweep["lawful_taken_down"], marker="s", color="#D55E00", label="lawful")
    axes[1].plot(
        x, sweep["prohibited_taken_down"], marker="^", ls="--", color="#0072B2", label="prohibited"
    )
    axes[1].set_xscale("log")
    axes[1].set_xlabel("fine for a violation (CNY, log scale; 0 shown at 100)")
    axes[1].set_ylabel("posts taken down (30 days)")
    axes[1].set_title("What the extra strictness removes")
    axes[1].legend()
fig

# %% [markdown]
# ## The licence threat
#
# China's real deterrent is not the fine (capped at RMB 500,000, tiny for a large
# platform: L3 in [docs/references.md](../docs/references.md)) but the licence. With a
# ladder of a warning then **revocation**, what matters is what the platform would lose:
# its `value`.

# %%
rows = []
for value in [1e2, 1e4, 1e6, 1e8]:
    changes = {
        "rules.penalties.ladder": [{"action": "warning"}, {"action": "revocation"}],
        "platforms.0.value": value, "platforms.1.value": value / 2,
    }
    s = simulator.run(simulator.override(base, changes), seed=11).summary
    rows.append({
        "licence_value": value,
        "strictness": s["platforms"][0]["mean_strictness"],
        "lawful_taken_down": s["lawful_taken_down"],
        "collateral_share": s["collateral_share"],
    })
pd.DataFrame(rows).round(3)

# %% [markdown]
# Strictness saturates: once losing the licence would cost enough, the platform is as
# strict as it can be, and more value at stake changes nothing.
#
# ## A platform under pressure
#
# With a fine of 100,000, the platform figure shows strictness climbing, and any warnings
# and fines the audits bring.

# %%
plots.platforms(fine_runs[1e5])

# %% [markdown]
# ## Reviewers set how strict a platform can be
#
# Flagging a post does not take it down: a reviewer has to. Under strict liability an
# audit counts every prohibited post still up, flagged ones waiting in the review line
# included, so a platform whose staff is fixed gains nothing from flagging more than its
# reviewers can serve (docs/model.md S8, "Deadlines and the queue"). Sweep the review
# staff (per 100,000 users; `classroom` ships 167 for weibo and 125 for tieba) and watch
# the strictness the platform chooses, and the speech that goes with it.

# %%
rows = []
for staff in [2, 5, 10, 25, 50, 200]:
    changes = {f"platforms.{p}.reviewers_per_100k_users": staff for p in (0, 1)}
    s = simulator.run(simulator.override(base, changes), seed=11).summary
    rows.append({
        "reviewers_per_100k": staff,
        "strictness": s["platforms"][0]["mean_strictness"],
        "mean_wait_hours": s["platforms"][0]["mean_queue_wait_hours"],
        "political_speech_lost": s["political_speech_net_loss"],
        "lawful_taken_down": s["lawful_taken_down"],
    })
staffing = pd.DataFrame(rows)
staffing.round(3)

# %% [markdown]
# Few reviewers, a lax platform: it flags what they can serve and the line stays short.
# Censorship at scale needs people to do it (Toutiao employed about 4,000 content
# reviewers and sought 2,000 more after a suspension: L13 in
# [docs/references.md](../docs/references.md)); give the platform staff and the same law
# removes far more. With
# `platforms.N.staffing = "chosen"` the platform hires for its flags instead
# (docs/model.md S6a).
#
# **Try:** raise `platforms.0.wrongful_removal_daily_cost` (what wrongful removals cost the
# platform: an appeal system, say) and watch the collateral share fall.
