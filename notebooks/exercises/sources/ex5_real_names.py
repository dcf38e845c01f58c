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
# # Exercise 5 — Real names: exclusion versus traceability
#
# **Learning goal.** decompose an effect into its channels with counterfactual runs, and say what the decomposition can and cannot tell.
#
# **Time:** about 25 minutes. Each question has a cell for your work and a self-check:
# put your answer in `answer` and run the cell. Shares can be given as fractions (0.12) or
# percentages (12). Every run uses a fixed seed, so everybody gets the same numbers.

# %%
# %matplotlib inline
from simulator import teaching

# %% [markdown]
# A real-name rule loses speech by **excluding** users who refuse to register and by
# making registered users **traceable**, so they feel at more risk. Switch one channel off
# at a time to see how much each contributes.

# %%
base = teaching.run_exercise("ex5")
base.summary["speech_loss"], base.summary["users_final"]

# %% [markdown]
# **ex5_q1.** How much speech loss (percentage points) does real-name registration add? Compare the base run with rules.real_name.enabled = False.

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex5_q1", answer)

# %% [markdown]
# **ex5_q2.** What fraction of that added loss is due to exclusion (users who refuse to register)? Switch refusals off (rules.real_name.refusal_probability = 0) to isolate the rest, which is traceability. Give a fraction (0.4, not 40): it can come out above 1 or below 0, and why is worth discussing.

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex5_q2", answer)

# %% [markdown]
# **ex5_q3.** How many users are excluded at the end of the base run?

# %%
# your work here

answer = None  # replace None with your answer
teaching.check("ex5_q3", answer)
