"""What a transparency report shows and what it hides, for one run (docs/plots.md).

Left: per platform, the sensitive posts taken down or never said, the part the regime's
report counts solid, the rest hatched (:func:`simulator.output.transparency.visible_and_hidden`).
Right: notices per sender type, the removals on them, the share acted on and the share
about unlawful posts (the sender's accuracy)
(:func:`simulator.output.transparency.sender_outcomes`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from simulator.output.results import Results
from simulator.output.transparency import (
    CIRCUMVENTION,
    PARTS,
    sender_outcomes,
    visible_and_hidden,
)
from simulator.plots.style import (
    COLOURS,
    STAGE_FILLS,
    STAGE_HATCHES,
    as_results,
    new_figure,
    style,
    thousands,
    title,
    zero_line,
)

#: Label, fill and hatch of each part (the report's part solid, the hidden ones hatched).
PART_LOOKS = {
    "in_report": ("in the report", STAGE_FILLS["removed"], ""),
    "removed_not_in_report": ("removed, not in the report", STAGE_FILLS["removed"], "///"),
    "blocked_not_in_report": ("blocked before publication", STAGE_FILLS["blocked"], "xxx"),
    "withheld": ("withheld by the author", STAGE_FILLS["withheld"], STAGE_HATCHES["withheld"]),
    "excluded": ("author excluded", STAGE_FILLS["excluded"], STAGE_HATCHES["excluded"]),
}
REGIME_NAMES = {"netzdg": "NetzDG report", "dsa": "DSA report", "none": "no public report"}


def platform_label(platform: str, regime: str) -> str:
    """A bar's name and the report it is read against: a platform's regime's report;
    posts made through circumvention tools belong to no platform, and no report counts
    them (:data:`~simulator.output.transparency.CIRCUMVENTION`)."""
    if platform == CIRCUMVENTION:
        return f"{platform}\n(no platform: in no report)"
    return f"{platform}\n({REGIME_NAMES.get(regime, regime)})"


def transparency(source: Results | str | Path) -> Figure:
    """The visible and the hidden parts of a run's suppression, and notices by sender."""
    results = as_results(source)
    table = results.transparency
    summary = results.summary
    with style():
        fig = new_figure(9.0, 4.8)
        fig.suptitle(
            title(
                "Transparency report vs true suppression", "posts and notices, whole run",
                results.scenario_name, summary.get("users"), summary.get("horizon_days"),
                results.seed,
            )
        )  # fmt: skip
        left, right = fig.subplots(1, 2, width_ratios=(1.6, 1.0))
        if table.empty:
            for ax in (left, right):
                ax.text(0.5, 0.5, "no transparency table in this run folder", ha="center",
                        transform=ax.transAxes)  # fmt: skip
            return fig
        parts = visible_and_hidden(table)
        y = np.arange(len(parts))
        start = np.zeros(len(parts))
        for part in PARTS:
            label, fill, hatch = PART_LOOKS[part]
            values = parts[part].to_numpy(dtype=float)
            left.barh(y, values, left=start, color=fill, hatch=hatch, edgecolor="black",
                      linewidth=0.6, label=label, gid=f"part-{part}")  # fmt: skip
            start += values
        # The report's part can be too thin to see: say it in numbers (inside a long bar's
        # end, right of a short one, so it never covers the platform's name).
        longest = float(start.max()) if len(start) else 0.0
        for yi, (shown, total) in enumerate(zip(parts["in_report"], start, strict=True)):
            inside = total >= 0.4 * longest
            left.annotate(
                f"in the report: {shown:,.0f} of {total:,.0f}",
                (total, yi),
                xytext=(-4 if inside else 4, 0),
                textcoords="offset points",
                ha="right" if inside else "left",
                va="center",
                fontsize=7,
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85},
            )
        names = zip(parts["platform"], parts["regime"], strict=True)
        left.set_yticks(y, [platform_label(p, r) for p, r in names])
        left.invert_yaxis()
        left.xaxis.set_major_formatter(FuncFormatter(thousands))
        left.set_xlabel("sensitive posts, whole run (critical, calls to act, unlawful)")
        # From zero: the report's part is read against the whole bar.
        left.set_xlim(0, max(1.0, float(start.max()) if len(start) else 0.0) * 1.02)
        zero_line(left, axis="x")
        left.set_title("What the report shows (solid) and hides (hatched)")
        left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, fontsize=7)
        outcomes = sender_outcomes(results.notices)
        outcomes = outcomes[outcomes["notices"] > 0]
        labels = [
            f"{p}: {s}" for p, s in zip(outcomes["platform"], outcomes["sender"], strict=True)
        ]
        x = np.arange(len(outcomes))
        right.bar(x - 0.2, outcomes["notices"], width=0.4, color=COLOURS[1], label="notices",
                  gid="notices")  # fmt: skip
        right.bar(x + 0.2, outcomes["removed"], width=0.4, color=COLOURS[2], hatch="///",
                  label="removed on them", gid="removed")  # fmt: skip
        shares = zip(
            outcomes["notices"], outcomes["acted_on"], outcomes["about_unlawful"], strict=True
        )
        for xi, (n, acted, unlawful) in enumerate(shares):
            right.text(xi, n, f"{acted:.0%} acted on\n{unlawful:.0%} unlawful", ha="center",
                       va="bottom", fontsize=7)  # fmt: skip
        right.set_xticks(x, labels, rotation=20, ha="right")
        right.yaxis.set_major_formatter(FuncFormatter(thousands))
        right.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: whole ticks
        right.set_ylabel("notices (count)")
        right.set_title("Notices by sender")
        top = float(outcomes["notices"].max()) if len(outcomes) else 0.0
        right.set_ylim(0, top * 1.25 if top > 0 else 1.0)
        zero_line(right)
        if len(outcomes):
            right.legend(loc="upper right", fontsize=7)
        else:
            right.text(0.5, 0.5, "no notices", ha="center", transform=right.transAxes)
    return fig
