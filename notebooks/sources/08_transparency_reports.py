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
# # 8. What a transparency report shows and hides
#
# Platforms publish transparency reports: under Germany's NetzDG the complaints they
# received, by sender (users or complaint bodies), how many led to a removal and how
# fast; under the EU's DSA also orders, own-initiative moderation, statements of reasons
# and appeals. China's Cybersecurity Law asks for no public report at all.
#
# Every run writes the report each platform would publish under its regime
# (`transparency.csv`, docs/metrics.md) beside what only the simulation knows: posts
# withheld by their authors, posts of excluded authors, posts blocked before
# publication, and removals the report leaves out. Notices come from sender types
# (users, trusted flaggers, automated senders), each with its share of every kind's
# notices (docs/model.md S5b), so their outcomes can be read per sender.
#
# Three regimes, 5,000 users and 60 days each (a few seconds a run).

# %%
# %matplotlib inline
import pandas as pd

import simulator
from simulator import plots
from simulator.output.transparency import sender_outcomes, visible_and_hidden

SMALL = {"population.users": 5000, "horizon_days": 60}
runs = {
    name: simulator.run(simulator.override(simulator.load_scenario(name), SMALL), seed=3)
    for name in ("germany_netzdg_2017", "eu_dsa_2024", "china_csl_2016")
}

# %% [markdown]
# ## The NetzDG report
#
# Complaints and removals on them by sender and by kind (the "complaint reason"), and
# how soon after the complaint the removals came.

# %%
netzdg = runs["germany_netzdg_2017"].transparency
report = netzdg[netzdg["part"] == "report"]
report.pivot_table(index=["item", "sender"], columns="kind", values="value", aggfunc="sum")

# %% [markdown]
# ## The DSA report, and what a Chinese platform knows but publishes nowhere

# %%
dsa = runs["eu_dsa_2024"].transparency
dsa[dsa["part"] == "report"].pivot_table(
    index=["item", "sender"], columns="kind", values="value", aggfunc="sum"
)

# %%
csl = runs["china_csl_2016"].transparency
published = csl[csl["item"] == "report_published"]
print("published:", dict(zip(published["platform"], published["value"], strict=True)))
csl[csl["part"] == "platform_knows"].pivot_table(
    index="item", columns="platform", values="value", aggfunc="sum"
)

# %% [markdown]
# ## The visible and the hidden parts
#
# Per platform, the sensitive posts (criticism, calls to act, unlawful posts) that were
# taken down or never said: the part the report counts, and the rest. The three
# numbers of take-downs add up to every removal decision and block; withheld and
# excluded posts appear in no report.

# %%
parts = pd.concat(
    [visible_and_hidden(r.transparency).assign(scenario=name) for name, r in runs.items()]
).set_index(["scenario", "platform"])
parts["share_in_report"] = parts["in_report"] / parts.drop(columns="regime").sum(axis=1)
parts.round(3)

# %%
plots.transparency(runs["germany_netzdg_2017"])

# %%
plots.transparency(runs["china_csl_2016"])

# %% [markdown]
# ## Notices by sender
#
# A sender's accuracy is the mix of what it notices: trusted flaggers notice mostly
# unlawful posts, so more of their notices are acted on. The per-sender rows add up to
# the totals the summary counts.

# %%
for name in ("germany_netzdg_2017", "eu_dsa_2024"):
    r = runs[name]
    outcomes = sender_outcomes(r.notices)
    print(name)
    print(outcomes.round(3).to_string(index=False))
    assert outcomes["notices"].sum() == r.summary["notices_total"]
    assert outcomes["removed"].sum() == r.summary["notices_removed_total"]

# %% [markdown]
# ## A report cannot see chilling
#
# The same NetzDG regime, once as shipped and once with users who fear removal more
# (a higher prior belief and cost of a removal). Users withhold many more posts; the
# report's complaints and removals barely move, or fall, because fewer unlawful posts
# are made to complain about.

# %%
fearful = {
    "population.perception.prior_removal": 0.5,
    "population.perception.initial_removal": 0.5,
    "population.speech.removal_cost": 0.5,
}
base = simulator.override(simulator.load_scenario("germany_netzdg_2017"), SMALL)
pair = {
    "as shipped": runs["germany_netzdg_2017"],
    "users fear removal": simulator.run(simulator.override(base, fearful), seed=3),
}
rows = []
for label, r in pair.items():
    t = r.transparency
    reported = t[t["part"] == "report"]
    hidden = t[t["part"] == "hidden"]
    rows.append({
        "variant": label,
        "complaints (report)": reported.loc[reported["item"] == "complaints", "value"].sum(),
        "removed on complaint (report)": reported.loc[
            reported["item"] == "removed_on_complaint", "value"
        ].sum(),
        "withheld (hidden)": hidden.loc[hidden["item"] == "withheld", "value"].sum(),
        "chilling effect": r.summary["chilling_effect"],
    })
pd.DataFrame(rows).set_index("variant")

# %% [markdown]
# **To try.** Give trusted flaggers every notice about an unlawful post
# (`population.notices.senders.trusted_flaggers.share.unlawful = 1`, users 0) and see
# their share acted on; switch `rules.transparency.report` between `netzdg`, `dsa` and
# `none` on one scenario and see which take-downs move from hidden to visible.
