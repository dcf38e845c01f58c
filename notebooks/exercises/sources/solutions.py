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
# # Solutions to the exercises
#
# For instructors. Each answer is computed the way a student would, then checked with
# `teaching.check`; the `assert`s make this notebook fail if a hint and its check ever
# disagree. `docs/teaching.md` has timings and discussion prompts.

# %%
# %matplotlib inline
from simulator import teaching

# %% [markdown]
# ## Exercise 1

# %%
s = teaching.run_exercise("ex1").summary
critical = s["per_kind"]["critical"]
a1 = critical["intended"]
calls = s["per_kind"]["collective_action"]
a2 = (calls["withheld"] + calls["softened"]) / calls["intended"]
lawful = ["benign", "critical", "collective_action"]
mechanisms = ["withheld", "excluded", "blocked", "removed"]
by_mechanism = {m: sum(s["per_kind"][k][m] for k in lawful) for m in mechanisms}
a3 = max(by_mechanism, key=by_mechanism.get)
print(by_mechanism)
for question, value in [("ex1_q1", a1), ("ex1_q2", a2), ("ex1_q3", a3)]:
    assert teaching.check(question, value), question

# %% [markdown]
# Benign posts dominate intended speech, so exclusion (which takes all of an excluded
# user's posts) outweighs self-censorship (which takes sensitive posts only) in raw
# counts, while for calls to act alone self-censorship (mostly softening them into
# criticism) is the largest loss. Ask which count
# matters for the question being asked.

# %% [markdown]
# ## Exercise 2

# %%
s = teaching.run_exercise("ex2").summary
b1 = s["removed_within_30min"]
b2 = "faster" if b1 > 0.30 else "slower"
b3 = s["blocked"] / (s["blocked"] + s["removed"])
for question, value in [("ex2_q1", b1), ("ex2_q2", b2), ("ex2_q3", b3)]:
    assert teaching.check(question, value), question

# %% [markdown]
# ## Exercise 3

# %%
runs = {
    fine: teaching.run_exercise("ex3", teaching.fine_ladder(fine)).summary
    for fine in [1e3, 1e4, 1e5, 1e6]
}
c1 = runs[1e4]["platforms"][0]["mean_strictness"]
c2 = runs[1e5]["lawful_taken_down"] / runs[1e3]["lawful_taken_down"]
extra_lawful = runs[1e6]["lawful_taken_down"] - runs[1e5]["lawful_taken_down"]
# Collective action is prohibited and lawful here: its takedowns count in both.
extra_prohibited = runs[1e6]["prohibited_taken_down"] - runs[1e5]["prohibited_taken_down"]
c3 = "yes" if extra_prohibited > extra_lawful else "no"
print(f"extra lawful {extra_lawful}, extra prohibited {extra_prohibited}")
for question, value in [("ex3_q1", c1), ("ex3_q2", c2), ("ex3_q3", c3)]:
    assert teaching.check(question, value), question


# %% [markdown]
# ## Exercise 4

# %%
def chill(changes=None):
    return teaching.run_exercise("ex4", changes).summary["chilling_effect"]


bright_line = chill({"rules.takedown.vagueness": 0.0})
invisible = chill({"population.perception.visibility": 0.0})
d1 = chill() - invisible
d2 = "vagueness" if bright_line < invisible else "visibility"
d3 = chill(teaching.NO_DETENTIONS)
print(f"base {chill():.4f}, bright line {bright_line:.4f}, invisible {invisible:.4f}, "
      f"no detentions {d3:.4f}")
for question, value in [("ex4_q1", d1), ("ex4_q2", d2), ("ex4_q3", d3)]:
    assert teaching.check(question, value), question


# %% [markdown]
# ## Exercise 5

# %%
def loss(changes=None):
    return teaching.run_exercise("ex5", changes).summary["speech_loss"]


e1 = loss() - loss({"rules.real_name.enabled": False})
e2 = (loss() - loss({"rules.real_name.refusal_probability": 0.0})) / e1
e3 = teaching.run_exercise("ex5").summary["users_final"]["excluded"]
for question, value in [("ex5_q1", e1), ("ex5_q2", e2), ("ex5_q3", e3)]:
    assert teaching.check(question, value), question

# %% [markdown]
# ## Exercise 6

# %%
from simulator.experiments.tables import t_interval


def campaign_total(changes=None):
    table = teaching.study_exercise("ex6", changes).table
    return table.loc[table["days_since"] >= 0, "effect_mean"].sum()


study = teaching.study_exercise("ex6")
assert (study.table.loc[study.table["days_since"] < 0, "effect_mean"] == 0).all()
f1 = campaign_total()
after = study.per_replication[study.per_replication["day"] >= study.event_day]
totals = (after["treated"] - after["control"]).groupby(after["replication"]).sum()
mean, low, high, n = t_interval(totals.to_numpy())
f2 = "yes" if low > 0 or high < 0 else "no"
news = campaign_total(teaching.campaign("population.perception"))
detentions = campaign_total(teaching.campaign("police"))
f3 = "news" if news > detentions else "detentions"  # the larger total raises withholding more
post = study.table[study.table["days_since"] >= 0]
clear_days = ((post["effect_low"] > 0) | (post["effect_high"] < 0)).sum()
print(f"total {f1:.2f}, interval [{low:.2f}, {high:.2f}] over {n} replications; "
      f"{clear_days} of {len(post)} days clear of 0 on their own; "
      f"news alone {news:.2f}, detentions alone {detentions:.2f}")
for question, value in [("ex6_q1", f1), ("ex6_q2", f2), ("ex6_q3", f3)]:
    assert teaching.check(question, value), question

# %% [markdown]
# ## The checks give feedback on wrong answers too

# %%
assert not teaching.check("ex1_q2", 0.9)
assert not teaching.check("ex2_q2", "sideways")
teaching.check("ex1_q2", 100 * a2)  # percentages are understood
