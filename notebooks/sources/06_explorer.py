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
# # 6. Explorer
#
# Move the sliders and the model re-runs (the `classroom` scenario, at the size below) and
# redraws the funnel and the time series. Each run takes about a second.

# %%
# %matplotlib inline
import simulator
from simulator import plots

# %%
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

# %% [markdown]
# The cell below draws once without touching a slider (it is also what lets this notebook
# run without a browser, in the tests).

# %%
results = update()
print(status.value.replace("&nbsp;", " "))
