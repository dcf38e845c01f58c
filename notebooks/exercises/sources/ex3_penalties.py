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
# # Exercise 3 — Penalties and over-compliance
#
# **Learning goal.** see how the threat of a fine moves platform strictness, and who pays for it.
#
# **Time:** about 20 minutes. Each question has a cell for your work and a self-check:
# put your answer in `answer` and run the cell. Shares can be given as fractions (0.12) or
# percentages (12). Every run uses a fixed seed, so everybody gets the same numbers.

# %%
# %matplotlib inline
from simulator import teaching

# %% [markdown]
# `teaching.fine_ladder(amount)` gives the changes for a regulator whose ladder is a
# warning then a fine of `amount`, with platforms allowed to be very strict. Pass it to
# `teaching.run_exercise`:

# %%
low = teaching.run_exercise("ex3", teaching.fine_ladder(1e3))
low.summary["platforms"][0]["mean_strictness"], low.summary["lawful_taken_down"]

# %% [markdown]
# **ex3_q1.** With a fine of 10,000 (teaching.fine_ladder(1e4)), what is weibo's mean strictness over the run?

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex3_q1", answer)

# %% [markdown]
# **ex3_q2.** How many times more lawful posts are taken down with a fine of 100,000 than with a fine of 1,000?

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex3_q2", answer)

# %% [markdown]
# **ex3_q3.** Raising the fine from 100,000 to 1,000,000: does it take down more extra prohibited posts than extra lawful ones? (yes/no)

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex3_q3", answer)
