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
# # Exercise 4 — The chilling effect
#
# **Learning goal.** separate the levers of self-censorship: what users see, how clear the line is, and how hard punishment falls.
#
# **Time:** about 20 minutes. Each question has a cell for your work and a self-check:
# put your answer in `answer` and run the cell. Shares can be given as fractions (0.12) or
# percentages (12). Every run uses a fixed seed, so everybody gets the same numbers.

# %%
# %matplotlib inline
from simulator import teaching

# %% [markdown]
# `teaching.run_exercise("ex4", {"population.perception.visibility": 0.0})` runs the
# exercise scenario with one change (any dotted path of the scenario works).

# %%
base = teaching.run_exercise("ex4")
base.summary["chilling_effect"]

# %% [markdown]
# **ex4_q1.** By how much (in percentage points of lawful posts) does the chilling effect fall when users see no enforcement at all (population.perception.visibility = 0)?

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex4_q1", answer)

# %% [markdown]
# **ex4_q2.** Which lowers the chilling effect more: a bright line (rules.takedown.vagueness = 0) or invisible enforcement (visibility = 0)?

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex4_q2", answer)

# %% [markdown]
# **ex4_q3.** What is the chilling effect when the police detain nobody (teaching.NO_DETENTIONS)?

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex4_q3", answer)
