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
# # 5. Real-name registration: exclusion versus traceability
#
# A real-name rule costs speech in two ways:
# - **exclusion**: users who refuse to register lose access (or go to circumvention
#   tools, with their friction);
# - **traceability**: users who do register know they can be identified: the police
#   always identify them, and their perceived chance of detention is
#   `1 / police.identify_anonymous_probability` times an anonymous user's, so they
#   withhold more.
#
# We separate the two by switching each off in turn (`classroom`, 1,000 users, 30 days).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd

import simulator
from simulator import plots

# %%
base = simulator.override(simulator.load_scenario("classroom"),
                          {"population.users": 1000, "horizon_days": 30})
variants = {
    "no real names": {"rules.real_name.enabled": False},
    "real names": {},
    "traceability only (no refusals)": {"rules.real_name.refusal_probability": 0.0},
    # Identification certain for everyone: registering adds no risk.
    "exclusion only (no added risk)": {"police.identify_anonymous_probability": 1.0},
}
runs = {label: simulator.run(simulator.override(base, changes), seed=11)
        for label, changes in variants.items()}
rows = []
for label, r in runs.items():
    s, users = r.summary, r.summary["users_final"]
    rows.append({
        "variant": label,
        "speech_loss": s["speech_loss"],
        "chilling_effect": s["chilling_effect"],
        "excluded_posts": s["excluded"],
        "excluded_users": users["excluded"],
        "circumventing": users["circumventing"],
        "traceable": users["traceable"],
    })
table = pd.DataFrame(rows).set_index("variant")
table.round(4)

# %%
loss = table["speech_loss"]
added = loss["real names"] - loss["no real names"]
exclusion = loss["real names"] - loss["traceability only (no refusals)"]
traceability = loss["real names"] - loss["exclusion only (no added risk)"]
print(f"real names add {added:.2%} speech loss")
print(f"  of which exclusion    ~ {exclusion:.2%} ({exclusion / added:.0%})")
print(f"  of which traceability ~ {traceability:.2%} ({traceability / added:.0%})")
print("(the parts need not add up exactly: the two channels interact, and other rules are on too)")

# %%
one_each = {label: [r] for label, r in runs.items()}
plots.comparison(one_each, ["speech_loss", "chilling_effect", "excluded_share"])

# %% [markdown]
# ## How many refuse?
#
# The refusal probability is an assumption (no published figure). Sweep it and see that
# exclusion grows with it roughly in proportion, while chilling moves little: the two
# channels respond to different parameters, which is why a study of real-name rules needs
# both measured.

# %%
rows = []
for p in [0.0, 0.05, 0.1, 0.2, 0.4]:
    scenario = simulator.override(base, {"rules.real_name.refusal_probability": p})
    s = simulator.run(scenario, seed=11).summary
    rows.append({
        "refusal_probability": p,
        "speech_loss": s["speech_loss"],
        "chilling_effect": s["chilling_effect"],
        "excluded_users": s["users_final"]["excluded"],
    })
sweep = pd.DataFrame(rows)
with plots.style():
    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    x = sweep["refusal_probability"]
    ax.plot(x, 100 * sweep["speech_loss"], marker="o", color="black", label="speech loss")
    ax.plot(x, 100 * sweep["chilling_effect"], marker="s", ls="--", color="#0072B2",
            label="chilling effect")
    ax.set_xlabel("probability a user refuses real-name registration")
    ax.set_ylabel("% of lawful posts")
    ax.legend()
sweep.round(4)

# %%
fig

# %% [markdown]
# **Discuss:** Fu, Chan and Chau (2013; C5 in [docs/references.md](../docs/references.md))
# saw bloggers write less about politics after Weibo's real-name rule, without an effect
# size. Which of the two channels would their data capture, and which would it miss?
