"""Write the notebooks of this folder (without outputs) from the cells below.

Run ``python notebooks/build_notebooks.py`` after editing a notebook's cells here; the
.ipynb files are generated, so edit this script rather than the notebooks. Each notebook
imports only censim (``simulator``), numpy, pandas and matplotlib (and ipywidgets for
the explorer), and runs top to bottom in well under a minute.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

IMPORTS = {
    "plt": "import matplotlib.pyplot as plt",
    "np": "import numpy as np",
    "pd": "import pandas as pd",
    "simulator": "import simulator",
    "plots": "from simulator import plots",
    "teaching": "from simulator import teaching",
    "plots,teaching": "from simulator import plots, teaching",
}


def setup(*names: str) -> str:
    """The first code cell: inline figures, then only the imports the notebook uses."""
    third = [IMPORTS[n] for n in ("plt", "np", "pd") if n in names]
    ours = [IMPORTS[n] for n in names if n not in ("plt", "np", "pd")]
    return "%matplotlib inline\n" + "\n".join(third) + ("\n\n" if third else "") + "\n".join(ours)


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip("\n"))


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(text.strip("\n"))


def notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


# -- 1. quick start --------------------------------------------------------------------

QUICK_START = [
    md("""
# 1. Quick start: run a scenario, read the tables, draw the funnel

censim simulates users, platforms and regulators under censorship rules: real-name
registration, takedown duties and reporting to the authorities, backed by penalties.
Every run is **paired** with a counterfactual: the same users, saying the same things,
on the same random numbers, but with every rule switched off. The difference between
the two is what the rules did.

This notebook runs the small `classroom` scenario (2,000 users, 60 days, a China-style
regime), reads its tables and draws the figures that `censim plot` writes.
"""),
    code(setup("simulator", "plots")),
    md("""
## The scenario

Scenarios are TOML files; the shipped ones are listed by `simulator.shipped_scenarios()`
(or `censim scenarios`). A loaded scenario is a frozen, validated object.
"""),
    code("""
print(sorted(simulator.shipped_scenarios()))
scenario = simulator.load_scenario("classroom")
print(scenario.description)
print(f"{scenario.population.users:,} users, {scenario.horizon_days} days, "
      f"platforms: {[p.name for p in scenario.platforms]}")
print("rules:", scenario.rules.model_dump(include={"real_name": {"enabled"},
      "takedown": {"enabled", "prohibited", "vagueness"}, "reporting": {"mode"}}))
"""),
    md("""
## Run it

`simulator.run` runs the scenario and its no-rules counterfactual. The same seed gives
the same numbers, byte for byte, every time on this machine (on another machine almost
always too: docs/reliability.md, "Across machines", says when not).
"""),
    code("""
results = simulator.run(scenario, seed=1)
s = results.summary
for key in ["intended", "withheld", "excluded", "blocked", "removed", "surviving"]:
    print(f"{key:>10}: {s[key]:>9,}")
print(f"speech loss      {s['speech_loss']:.2%}  (lawful posts lost against the no-rules run)")
print(f"chilling effect  {s['chilling_effect']:.2%}  (lawful posts users withheld)")
print(f"collateral share {s['collateral_share']:.2%}  (share of takedowns that were lawful)")
"""),
    md("""
## The tables

Everything is also in tidy tables (pandas DataFrames), one row per day x platform x
channel x content kind for speech, one row per event for enforcement. Every intended
post has exactly one fate, so `intended = withheld + excluded + blocked + removed +
surviving` holds on every row.
"""),
    code("""
daily = results.daily
display(daily.head())
outcomes = ["withheld", "excluded", "blocked", "removed", "surviving"]
by_kind = daily.groupby("kind")[["intended", *outcomes]].sum()
display(by_kind)
assert (daily["intended"] == daily[outcomes].sum(axis=1)).all(), "every post is accounted for once"
"""),
    code("""
display(results.events["event"].value_counts().rename("events"))
display(results.population_daily.tail(3))
display(results.platform_daily.tail(4))
"""),
    md("""
## The speech funnel

Per content kind, where intended posts went. Read it left to right: of all the posts
users wanted to write (first bar), some were **withheld** by users themselves (the
chilling effect), some could not be posted because their authors were **excluded** by
the real-name rule, some were **blocked** before publication or **removed** after it,
and the rest **survived**. Look at how much of the critical and collective-action speech
is lost before any moderator sees it.
"""),
    code("""
plots.funnel(results)
"""),
    md("""
## Over time and time to removal

The time series shows speech, the population's mean perceived risk (it jumps when a
detention makes the news) and how many users are active. The removal curve shows how
fast removals happen, against the published Weibo figures of 2012 (crosses).
"""),
    code("""
plots.time_series(results)
"""),
    code("""
plots.removal_curve(results)
"""),
    md("""
## Saving a run and its figures

`results.write(folder)` writes the tables (CSV) and the summary (JSON);
`plots.write_all(results, folder)` writes every figure. The command line does the same:
`censim run classroom --out runs/c1` then `censim plot runs/c1`.
"""),
    code("""
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
"""),
    md("""
**Next:** `02_comparing_regimes` puts four regimes side by side; the other notebooks
take one mechanism each.
"""),
]

# -- 2. comparing regimes --------------------------------------------------------------

REGIMES = [
    md("""
# 2. Comparing regimes: no rules, NetzDG, the DSA and China's Cybersecurity Law

The same machinery expresses very different regimes as data:

| scenario | what it is |
|---|---|
| `open_baseline` | no rules: the yardstick |
| `germany_netzdg_2017` | Germany's NetzDG: takedown within 24 h / 7 days of a notice, fines |
| `eu_dsa_2024` | the EU Digital Services Act: notice and action, appeals, turnover fines |
| `china_csl_2016` | China's Cybersecurity Law: real names, deletion, reporting, licences |

To run in seconds we shrink each to the same population and horizon with
`simulator.override`, and run each several times (replications with independent seeds
from `simulator.streams.replication_seeds`) to see how much of a difference is noise.
"""),
    code(setup("pd", "simulator", "plots")),
    code("""
from simulator.streams import replication_seeds

NAMES = ["open_baseline", "germany_netzdg_2017", "eu_dsa_2024", "china_csl_2016"]
SIZE = {"population.users": 2000, "horizon_days": 45}
SEEDS = replication_seeds(2024, 3)   # the same seeds for every regime

runs = {}
for name in NAMES:
    scenario = simulator.override(simulator.load_scenario(name), SIZE)
    runs[name] = [simulator.run(scenario, seed=seed, replication=i) for i, seed in enumerate(SEEDS)]
print({name: len(r) for name, r in runs.items()})
"""),
    md("""
## The headline numbers, with 95% intervals

`plots.comparison_table` gives each metric's mean over replications and its Student-t
95% interval. **Speech loss** counts lawful posts lost against the no-rules run;
the **chilling effect** the lawful posts users withheld; the **collateral share** the
share of takedowns that hit lawful speech.
"""),
    code("""
table = plots.comparison_table(runs)
metrics = ["speech_loss", "chilling_effect", "collateral_share"]
columns = ["regime", "replications"]
columns += [f"{m}_{part}" for m in metrics for part in ("mean", "ci_low", "ci_high")]
table[columns].round(4)
"""),
    code("""
plots.comparison(runs)
"""),
    md("""
What to look at: the baseline loses nothing (it is its own counterfactual). The two
European regimes take down prohibited content after notices and chill next to nothing,
since nobody is detained and users learn little fear from the enforcement they see;
some lawful posts are still taken down by mistake (the collateral share). The Chinese
regime loses far more lawful speech, and most of that loss is not takedowns at all:
users withhold posts and some are excluded by the real-name rule (see the funnels).

## Where the speech goes, regime by regime

The funnels of one replication each, for the kinds that carry political speech, as
shares of intended posts.
"""),
    code("""
for name in NAMES:
    display(plots.funnel(runs[name][0], kinds=["critical", "collective_action"], share=True))
"""),
    md("""
## How fast?

The share of removals within 8 minutes, 30 minutes, 1 hour and 24 hours (mean over
replications; empty for the baseline, which removes nothing). Compare them with the
deadlines each law sets (24 hours for manifestly unlawful content under NetzDG) and
with the Weibo figures of 2012 (about 5%, 30% and 90% within 8 min, 30 min and 24 h:
C2 in [docs/references.md](../docs/references.md)). Does a deadline describe how fast
removal actually is?
"""),
    code("""
marks = ["8min", "30min", "1h", "24h"]
speed = pd.DataFrame({
    name: {m: pd.Series([r.summary[f"removed_within_{m}"] for r in reps], dtype=float).mean()
           for m in marks}
    for name, reps in runs.items()
}).T
speed.round(3)
"""),
    code("""
plots.removal_curve(runs["china_csl_2016"][0])
"""),
    md("""
**Caveat.** These are reduced runs (2,000 users, 45 days): fine for seeing mechanisms,
too small for numbers to quote. For that, run the full scenarios with
`censim compare open_baseline germany_netzdg_2017 eu_dsa_2024 china_csl_2016 --reps 10 --out cmp/`.
"""),
]

# -- 3. penalties ----------------------------------------------------------------------

PENALTIES = [
    md("""
# 3. Penalties and over-compliance

Platforms are fined for what they **miss**, never for what they **over-remove**. Each
day a platform sets its strictness to the level that minimises its expected cost: a
missed prohibited post costs the chance of being caught times the penalty it would bring;
a lawful post removed by mistake costs only a little goodwill. So the bigger the
penalty, the lower the bar for removal, and the more lawful speech goes with it:
**collateral censorship**, coming out of the mechanics rather than being written in.

We take the `classroom` scenario (1,000 users, 30 days), let platforms be as strict as
they like (`max_strictness = 0.95`), give the regulator a short ladder (a warning, then a
fine), and sweep the fine with a plain loop over `simulator.override` and `simulator.run`.
"""),
    code(setup("plt", "pd", "simulator", "plots")),
    code("""
base = simulator.override(simulator.load_scenario("classroom"), {
    "population.users": 1000, "horizon_days": 30,
    "platforms.0.max_strictness": 0.95, "platforms.1.max_strictness": 0.95,
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
"""),
    md("""
Look at the first two columns: nobody has to be fined for strictness to rise. The
**threat** is enough (the `fines_paid` column stays at or near zero). Then compare the
growth of lawful and prohibited takedowns as the fine grows.
"""),
    code("""
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
"""),
    md("""
## The licence threat

China's real deterrent is not the fine (capped at RMB 500,000, tiny for a large
platform: L3 in [docs/references.md](../docs/references.md)) but the licence. With a
ladder of a warning then **revocation**, what matters is what the platform would lose:
its `value`.
"""),
    code("""
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
"""),
    md("""
Strictness saturates: once losing the licence would cost enough, the platform is as
strict as it can be, and more value at stake changes nothing.

## A platform under pressure

With a fine of 100,000, the platform figure shows strictness climbing, and any warnings
and fines the audits bring.
"""),
    code("""
plots.platforms(fine_runs[1e5])
"""),
    md("""
**Try:** raise `platforms.0.wrongful_removal_cost` (what a wrongful removal costs the
platform: an appeal system, say) and watch the collateral share fall.
"""),
]

# -- 4. chilling -----------------------------------------------------------------------

CHILLING = [
    md("""
# 4. The chilling effect: visibility, vagueness, detentions

Users cannot see the line. Each user has a **perceived risk** that rises with the
enforcement they see (their own removals, their neighbours' removals and detentions,
detentions in the news) and fades over time. A post is withheld when the perceived risk
of its kind exceeds the user's boldness. With a vague rule, lawful kinds that merely look
close to the line (criticism, collective action) feel risky too.

Three levers, each on the `classroom` scenario at 1,000 users and 30 days, three
replications each:
- `population.perception.visibility`: how much of the enforcement users get to see;
- `rules.takedown.vagueness`: 0 a bright line, 1 anything sensitive may be prohibited;
- detentions: `police.detention_probability.*` set to 0.
"""),
    code(setup("plt", "np", "pd", "simulator", "plots")),
    code("""
from simulator.streams import replication_seeds

base = simulator.override(simulator.load_scenario("classroom"),
                          {"population.users": 1000, "horizon_days": 30})
SEEDS = replication_seeds(4, 3)

def chilling(changes):
    scenario = simulator.override(base, changes)
    values = [simulator.run(scenario, seed=s).summary["chilling_effect"] for s in SEEDS]
    return np.mean(values), np.std(values, ddof=1) / np.sqrt(len(values))

rows = []
for v in [0.0, 0.25, 0.5, 1.0]:
    rows.append(("visibility", v, *chilling({"population.perception.visibility": v})))
for v in [0.0, 0.3, 0.6, 1.0]:
    rows.append(("vagueness", v, *chilling({"rules.takedown.vagueness": v})))
table = pd.DataFrame(rows, columns=["lever", "value", "chilling_effect", "standard_error"])
table.round(4)
"""),
    code("""
with plots.style():
    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    for (lever, part), marker, ls in zip(table.groupby("lever"), "os", ["-", "--"], strict=True):
        ax.errorbar(part["value"], 100 * part["chilling_effect"], yerr=100 * part["standard_error"],
                    marker=marker, linestyle=ls, capsize=3, label=lever)
    ax.set_xlabel("lever value (0-1)")
    ax.set_ylabel("chilling effect (% of lawful posts withheld)")
    ax.set_title("Chilling effect by lever (mean ± 1 standard error, 3 runs)")
    ax.legend()
fig
"""),
    md("""
What to look at: with nothing visible, almost nothing is chilled; users cannot fear what
they do not see. With a bright line (vagueness 0) users still withhold what is
prohibited (including collective-action posts, lawful by international standards but
prohibited by this regime, hence the chilling that remains), but criticism is spared.

## Detentions

Detentions are rare but loud: each one reaches every user through the news and the
detainee's friends. Compare the perceived risk with and without them.
"""),
    code("""
NO_DETENTIONS = {f"police.detention_probability.{k}": 0.0
                 for k in ["critical", "collective_action", "unlawful"]}
with_police = simulator.run(base, seed=SEEDS[0])
without = simulator.run(simulator.override(base, NO_DETENTIONS), seed=SEEDS[0])
print(f"detentions: {with_police.summary['users_final']['detained_ever']} vs "
      f"{without.summary['users_final']['detained_ever']}")
print(f"chilling effect: {with_police.summary['chilling_effect']:.2%} vs "
      f"{without.summary['chilling_effect']:.2%}")

with plots.style():
    fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
    ax.plot(with_police.population_daily["day"], with_police.population_daily["mean_risk"],
            color="black", label="with detentions")
    ax.plot(without.population_daily["day"], without.population_daily["mean_risk"],
            color="#0072B2", linestyle="--", label="no detentions")
    ax.set_xlabel("day of the run")
    ax.set_ylabel("mean perceived risk (0-1)")
    ax.legend()
fig
"""),
    code("""
plots.time_series(with_police)
"""),
    md("""
**Discuss:** Roberts (2018; C6 in [docs/references.md](../docs/references.md)) finds
that being censored oneself chills little, while visible punishment of others does.
Which parameters of `population.perception` encode that, and what would you change to
test it?
"""),
]

# -- 5. real names ---------------------------------------------------------------------

REAL_NAME = [
    md("""
# 5. Real-name registration: exclusion versus traceability

A real-name rule costs speech in two ways:
- **exclusion**: users who refuse to register lose access (or go to circumvention
  tools, with their friction);
- **traceability**: users who do register know they can be identified, and feel more
  at risk (`population.perception.real_name_risk`), so they withhold more.

We separate the two by switching each off in turn (`classroom`, 1,000 users, 30 days).
"""),
    code(setup("plt", "pd", "simulator", "plots")),
    code("""
base = simulator.override(simulator.load_scenario("classroom"),
                          {"population.users": 1000, "horizon_days": 30})
variants = {
    "no real names": {"rules.real_name.enabled": False},
    "real names": {},
    "traceability only (no refusals)": {"rules.real_name.refusal_probability": 0.0},
    "exclusion only (no added risk)": {"population.perception.real_name_risk": 0.0},
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
"""),
    code("""
loss = table["speech_loss"]
added = loss["real names"] - loss["no real names"]
exclusion = loss["real names"] - loss["traceability only (no refusals)"]
traceability = loss["real names"] - loss["exclusion only (no added risk)"]
print(f"real names add {added:.2%} speech loss")
print(f"  of which exclusion    ~ {exclusion:.2%} ({exclusion / added:.0%})")
print(f"  of which traceability ~ {traceability:.2%} ({traceability / added:.0%})")
print("(the parts need not add up exactly: the two channels interact, and other rules are on too)")
"""),
    code("""
one_each = {label: [r] for label, r in runs.items()}
plots.comparison(one_each, ["speech_loss", "chilling_effect", "excluded_share"])
"""),
    md("""
## How many refuse?

The refusal probability is an assumption (no published figure). Sweep it and see that
exclusion grows with it roughly in proportion, while chilling moves little: the two
channels respond to different parameters, which is why a study of real-name rules needs
both measured.
"""),
    code("""
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
"""),
    code("""
fig
"""),
    md("""
**Discuss:** Fu, Chan and Chau (2013; C5 in [docs/references.md](../docs/references.md))
saw bloggers write less about politics after Weibo's real-name rule, without an effect
size. Which of the two channels would their data capture, and which would it miss?
"""),
]

# -- 6. explorer -----------------------------------------------------------------------

EXPLORER = [
    md("""
# 6. Explorer

Move the sliders and the model re-runs (the `classroom` scenario, at the size below) and
redraws the funnel and the time series. Each run takes about a second.
"""),
    code(setup("simulator", "plots")),
    code("""
import ipywidgets as widgets
from IPython.display import display

base = simulator.load_scenario("classroom")

sliders = {
    "users": widgets.IntSlider(value=1000, min=200, max=4000, step=200, description="users"),
    "days": widgets.IntSlider(value=30, min=5, max=120, step=5, description="days"),
    "vagueness": widgets.FloatSlider(value=0.6, min=0, max=1, step=0.1, description="vagueness"),
    "visibility": widgets.FloatSlider(value=1.0, min=0, max=1, step=0.1, description="visibility"),
    "refusal": widgets.FloatSlider(
        value=0.05, min=0, max=0.5, step=0.05, description="refuse names"
    ),
    "real_names": widgets.Checkbox(value=True, description="real-name rule"),
    "seed": widgets.IntText(value=1, description="seed"),
}
output = widgets.Output()
status = widgets.HTML()


def update(change=None):
    values = {name: w.value for name, w in sliders.items()}
    scenario = simulator.override(base, {
        "population.users": values["users"],
        "horizon_days": values["days"],
        "rules.takedown.vagueness": values["vagueness"],
        "population.perception.visibility": values["visibility"],
        "rules.real_name.refusal_probability": values["refusal"],
        "rules.real_name.enabled": values["real_names"],
    })
    results = simulator.run(scenario, seed=values["seed"])
    s = results.summary
    status.value = (
        f"<b>speech loss</b> {s['speech_loss']:.2%} &nbsp; "
        f"<b>chilling</b> {s['chilling_effect']:.2%} &nbsp; "
        f"<b>collateral</b> {s['collateral_share']:.2%}"
    )
    with output:
        output.clear_output(wait=True)
        display(plots.funnel(results, kinds=["critical", "collective_action"], share=True))
        display(plots.time_series(results))
    return results


for w in sliders.values():
    w.observe(update, names="value")
display(widgets.VBox([widgets.HBox(list(sliders.values())[:4]),
                      widgets.HBox(list(sliders.values())[4:]), status, output]))
"""),
    md("""
The cell below draws once without touching a slider (it is also what lets this notebook
run without a browser, in the tests).
"""),
    code("""
results = update()
print(status.value.replace("&nbsp;", " "))
"""),
]

# -- exercises -------------------------------------------------------------------------


def question_cells(question_id: str, text: str, work: str = "") -> list[nbformat.NotebookNode]:
    cells = [md(f"**{question_id}.** {text}")]
    body = (work + "\n" if work else "# your work here\n") + "\n"
    body += "answer = None  # replace None with your answer\n"
    body += f'teaching.check("{question_id}", answer)'
    cells.append(code(body))
    return cells


def exercise(
    title: str, goal: str, minutes: int, intro: list[nbformat.NotebookNode],
    questions: list[tuple[str, str]], imports: tuple[str, ...] = ("teaching",),
) -> nbformat.NotebookNode:  # fmt: skip
    cells = [
        md(f"""
# {title}

**Learning goal.** {goal}

**Time:** about {minutes} minutes. Each question has a cell for your work and a self-check:
put your answer in `answer` and run the cell. Shares can be given as fractions (0.12) or
percentages (12). Every run uses a fixed seed, so everybody gets the same numbers.
"""),
        code(setup(*imports)),
        *intro,
    ]
    from simulator import teaching

    for question_id, hint_code in questions:
        cells += question_cells(question_id, teaching.question(question_id), hint_code)
    return notebook(cells)


def exercises() -> dict[str, nbformat.NotebookNode]:
    ex1 = exercise(
        "Exercise 1 — Reading a run: the speech funnel",
        "read a run's summary and its funnel, and say which mechanism costs the most speech.",
        15,
        [
            md("""
The exercises use the `classroom` scenario at 1,000 users and 30 days.
`teaching.run_exercise` runs it with the exercises' fixed seed.
"""),
            code("""
results = teaching.run_exercise("ex1")
results.summary["per_kind"]["critical"]
"""),
            code("plots.funnel(results)"),
        ],
        [("ex1_q1", ""), ("ex1_q2", ""), ("ex1_q3", "")],
        imports=("plots,teaching",),
    )
    ex2 = exercise(
        "Exercise 2 — How fast is censorship?",
        "read a distribution (not just a mean) of time to removal and compare a model "
        "with published measurements.",
        15,
        [
            md("""
Zhu et al. (2013) tracked 2.38 million Weibo posts in 2012: about 5% of deletions came
within 8 minutes, almost 30% within 30 minutes and nearly 90% within 24 hours.
"""),
            code("""
results = teaching.run_exercise("ex2")
plots.removal_curve(results)
"""),
        ],
        [("ex2_q1", ""), ("ex2_q2", ""), ("ex2_q3", "")],
        imports=("plots,teaching",),
    )
    ex3 = exercise(
        "Exercise 3 — Penalties and over-compliance",
        "see how the threat of a fine moves platform strictness, and who pays for it.",
        20,
        [
            md("""
`teaching.fine_ladder(amount)` gives the changes for a regulator whose ladder is a
warning then a fine of `amount`, with platforms allowed to be very strict. Pass it to
`teaching.run_exercise`:
"""),
            code("""
low = teaching.run_exercise("ex3", teaching.fine_ladder(1e3))
low.summary["platforms"][0]["mean_strictness"], low.summary["lawful_taken_down"]
"""),
        ],
        [("ex3_q1", ""), ("ex3_q2", ""), ("ex3_q3", "")],
    )
    ex4 = exercise(
        "Exercise 4 — The chilling effect",
        "separate the levers of self-censorship: what users see, how clear the line is, "
        "and how hard punishment falls.",
        20,
        [
            md("""
`teaching.run_exercise("ex4", {"population.perception.visibility": 0.0})` runs the
exercise scenario with one change (any dotted path of the scenario works).
"""),
            code("""
base = teaching.run_exercise("ex4")
base.summary["chilling_effect"]
"""),
        ],
        [("ex4_q1", ""), ("ex4_q2", ""), ("ex4_q3", "")],
    )
    ex5 = exercise(
        "Exercise 5 — Real names: exclusion versus traceability",
        "decompose an effect into its channels with counterfactual runs, and say what the "
        "decomposition can and cannot tell.",
        25,
        [
            md("""
A real-name rule loses speech by **excluding** users who refuse to register and by
making registered users **traceable**, so they feel at more risk. Switch one channel off
at a time to see how much each contributes.
"""),
            code("""
base = teaching.run_exercise("ex5")
base.summary["speech_loss"], base.summary["users_final"]
"""),
        ],
        [("ex5_q1", ""), ("ex5_q2", ""), ("ex5_q3", "")],
    )
    return {
        "ex1_reading_a_run": ex1,
        "ex2_time_to_removal": ex2,
        "ex3_penalties": ex3,
        "ex4_chilling": ex4,
        "ex5_real_names": ex5,
    }


SOLUTIONS = [
    md("""
# Solutions to the exercises

For instructors. Each answer is computed the way a student would, then checked with
`teaching.check`; the `assert`s make this notebook fail if a hint and its check ever
disagree. `docs/teaching.md` has timings and discussion prompts.
"""),
    code(setup("teaching")),
    md("## Exercise 1"),
    code("""
s = teaching.run_exercise("ex1").summary
critical = s["per_kind"]["critical"]
a1 = critical["intended"]
a2 = critical["withheld"] / critical["intended"]
lawful = ["benign", "critical", "collective_action"]
mechanisms = ["withheld", "excluded", "blocked", "removed"]
by_mechanism = {m: sum(s["per_kind"][k][m] for k in lawful) for m in mechanisms}
a3 = max(by_mechanism, key=by_mechanism.get)
print(by_mechanism)
for question, value in [("ex1_q1", a1), ("ex1_q2", a2), ("ex1_q3", a3)]:
    assert teaching.check(question, value), question
"""),
    md("""
Benign posts dominate intended speech, so exclusion (which takes all of an excluded
user's posts) outweighs self-censorship (which takes sensitive posts only) in raw
counts, while for critical posts alone withholding is the largest loss. Ask which count
matters for the question being asked.
"""),
    md("## Exercise 2"),
    code("""
s = teaching.run_exercise("ex2").summary
b1 = s["removed_within_30min"]
b2 = "faster" if b1 > 0.30 else "slower"
b3 = s["blocked"] / (s["blocked"] + s["removed"])
for question, value in [("ex2_q1", b1), ("ex2_q2", b2), ("ex2_q3", b3)]:
    assert teaching.check(question, value), question
"""),
    md("## Exercise 3"),
    code("""
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
"""),
    md("## Exercise 4"),
    code("""
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
"""),
    md("## Exercise 5"),
    code("""
def loss(changes=None):
    return teaching.run_exercise("ex5", changes).summary["speech_loss"]


e1 = loss() - loss({"rules.real_name.enabled": False})
e2 = (loss() - loss({"rules.real_name.refusal_probability": 0.0})) / e1
e3 = teaching.run_exercise("ex5").summary["users_final"]["excluded"]
for question, value in [("ex5_q1", e1), ("ex5_q2", e2), ("ex5_q3", e3)]:
    assert teaching.check(question, value), question
"""),
    md("""
## The checks give feedback on wrong answers too
"""),
    code("""
assert not teaching.check("ex1_q2", 0.9)
assert not teaching.check("ex2_q2", "sideways")
teaching.check("ex1_q2", 100 * a2)  # percentages are understood
"""),
]


NOTEBOOKS = {
    "01_quick_start": QUICK_START,
    "02_comparing_regimes": REGIMES,
    "03_penalties_and_overcompliance": PENALTIES,
    "04_chilling_effect": CHILLING,
    "05_real_name": REAL_NAME,
    "06_explorer": EXPLORER,
}


def build(folder: Path = HERE) -> list[Path]:
    """Write every notebook (without outputs) under ``folder``; returns their paths."""
    written = []
    for name, cells in NOTEBOOKS.items():
        written.append(_write(notebook(cells), folder / f"{name}.ipynb"))
    for name, nb in exercises().items():
        written.append(_write(nb, folder / "exercises" / f"{name}.ipynb"))
    written.append(_write(notebook(SOLUTIONS), folder / "exercises" / "solutions.ipynb"))
    return written


def _write(nb: nbformat.NotebookNode, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Stable cell ids, so rebuilding an unchanged notebook gives the same file.
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{path.stem[:40]}-{index:02d}"
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path


if __name__ == "__main__":
    for path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(f"wrote {path}")
