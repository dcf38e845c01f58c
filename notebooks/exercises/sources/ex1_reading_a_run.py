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
# # Exercise 1 — Reading a run: the speech funnel
#
# **Learning goal.** read a run's summary and its funnel, and say which mechanism costs the most speech.
#
# **Time:** about 15 minutes. Each question has a cell for your work and a self-check:
# put your answer in `answer` and run the cell. Shares can be given as fractions (0.12) or
# percentages (12). Every run uses a fixed seed, so everybody gets the same numbers.

# %%
# %matplotlib inline
from simulator import plots, teaching

# %% [markdown]
# The exercises use the `classroom` scenario at 1,000 users and 30 days.
# `teaching.run_exercise` runs it with the exercises' fixed seed.

# %%
results = teaching.run_exercise("ex1")
results.summary["per_kind"]["critical"]

# %%
plots.funnel(results)

# %% [markdown]
# **ex1_q1.** How many critical posts did users intend to write over the run?

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex1_q1", answer)

# %% [markdown]
# **ex1_q2.** What share of intended collective-action posts did users self-censor (withhold, or soften into criticism)?

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex1_q2", answer)

# %% [markdown]
# **ex1_q3.** Which mechanism took the most lawful posts (benign, critical, collective action)?

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex1_q3", answer)
