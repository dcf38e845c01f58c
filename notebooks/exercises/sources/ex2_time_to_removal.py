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
# # Exercise 2 — How fast is censorship?
#
# **Learning goal.** read a distribution (not just a mean) of time to removal and compare a model with published measurements.
#
# **Time:** about 15 minutes. Each question has a cell for your work and a self-check:
# put your answer in `answer` and run the cell. Shares can be given as fractions (0.12) or
# percentages (12). Every run uses a fixed seed, so everybody gets the same numbers.

# %%
# %matplotlib inline
from simulator import plots, teaching

# %% [markdown]
# Zhu et al. (2013) tracked 2.38 million Weibo posts in 2012: about 5% of deletions came
# within 8 minutes, almost 30% within 30 minutes and nearly 90% within 24 hours.

# %%
results = teaching.run_exercise("ex2")
plots.removal_curve(results)

# %% [markdown]
# **ex2_q1.** What share of removals happened within 30 minutes of posting?

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex2_q1", answer)

# %% [markdown]
# **ex2_q2.** Against Weibo in 2012 (about 30% within 30 minutes), are removals in the model faster or slower?

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex2_q2", answer)

# %% [markdown]
# **ex2_q3.** What share of all taken-down posts was blocked before publication (and so has no removal time at all)?

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex2_q3", answer)
