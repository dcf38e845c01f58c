"""Labels placed beside their points without overlapping (:func:`place_labels`): a small
greedy placer in the spirit of adjustText, without the dependency.

Each label tries positions around its point, nearest first (rings of growing radius,
eight directions each), and takes the first whose box lies inside the axes and overlaps
no label placed before it, no mark and the legend; a label set away from its point gets
a thin leader line to it. Where every position collides, the one with the least overlap
is taken. The boxes are measured in display units on the figure as drawn, so the figure's
layout is fixed first (the layout engine is switched off after one draw, and a legend at
``loc="best"`` is pinned where that draw put it): labels added afterwards cannot move
the axes or the legend from under the positions computed for them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

#: Distances tried from a point to its label's near corner, in points (1/72 inch).
RADII_POINTS = (4.0, 10.0, 18.0, 28.0, 40.0, 54.0, 70.0, 88.0, 108.0, 130.0)
#: Directions tried at each distance, in degrees (0 = right, counter-clockwise):
#: up-right first, as labels are read left to right and a frontier rises to the right.
ANGLES_DEGREES = (30.0, -30.0, 90.0, -90.0, 150.0, -150.0, 0.0, 180.0)
#: Half the side of the box kept free around each mark, in points.
MARK_POINTS = 4.0
#: Space kept between a label's box and anything else, in points.
GAP_POINTS = 1.5
#: From this distance (points) on a label gets a leader line to its point.
LEADER_FROM_POINTS = 10.0


def freeze_layout(ax: Axes) -> None:
    """Draw ``ax``'s figure once, then keep its layout: the layout engine switched off
    and a legend pinned where the draw put it (its lower-left corner, axes fraction)."""
    fig = ax.figure
    fig.canvas.draw()
    fig.set_layout_engine("none")  # type: ignore[union-attr]
    legend = ax.get_legend()
    if legend is not None:
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        box = legend.get_window_extent(renderer).transformed(ax.transAxes.inverted())
        legend.set_loc((float(box.x0), float(box.y0)))


def place_labels(
    ax: Axes,
    points: Sequence[tuple[float, float]],
    texts: Sequence[str],
    *,
    marks: Sequence[tuple[float, float]] = (),
    lines: Sequence[Sequence[tuple[float, float]]] = (),
    fontsize: float = 6.5,
    color: str = "0.3",
) -> list[Annotation]:
    """Annotate each of ``points`` (data coordinates) with its text, every label's box
    apart from the others', from the marks at ``points`` and ``marks``, from the
    polylines ``lines`` (error bars, a drawn curve; data coordinates) and from the
    legend, and inside the axes (see the module). Labels are placed in the order given;
    returns the annotations, in that order. Call it last: it draws the figure and fixes
    its layout (:func:`freeze_layout`)."""
    freeze_layout(ax)
    fig = ax.figure
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    px = fig.dpi / 72.0  # display units per point
    frame = ax.get_window_extent(renderer)
    gap = GAP_POINTS * px
    boxes: list[tuple[float, float, float, float]] = []  # x0, y0, x1, y1 (display)
    legend = ax.get_legend()
    if legend is not None:
        boxes.append(tuple(legend.get_window_extent(renderer).extents))  # type: ignore[arg-type]
    half = MARK_POINTS * px
    for cx, cy in _display(ax, [*points, *marks]):
        boxes.append((cx - half, cy - half, cx + half, cy + half))
    for line in lines:
        boxes.extend(_segment_boxes(_display(ax, line), px))
    placed: list[Annotation] = []
    for (x, y), text in zip(points, texts, strict=True):
        taken = np.array(boxes, dtype=float).reshape(-1, 4)
        ax_, ay_ = ax.transData.transform((x, y))
        probe = Text(0.0, 0.0, text, fontsize=fontsize, figure=fig)
        extent = Text.get_window_extent(probe, renderer)
        width, height = extent.width, extent.height
        best: tuple[float, float, float, str, str, Bbox] | None = None
        best_cost = math.inf
        for radius in RADII_POINTS:
            for angle in ANGLES_DEGREES:
                dx = radius * math.cos(math.radians(angle))
                dy = radius * math.sin(math.radians(angle))
                ha = "left" if dx > 0.5 else "right" if dx < -0.5 else "center"
                va = "bottom" if dy > 0.5 else "top" if dy < -0.5 else "center"
                box = _box(ax_ + dx * px, ay_ + dy * px, width, height, ha, va)
                cost = 10.0 * _outside(box, frame) + _overlaps(box.padded(gap), taken)
                if cost < best_cost:
                    best, best_cost = (radius, dx, dy, ha, va, box), cost
                if cost == 0.0:
                    break
            if best_cost == 0.0:
                break
        assert best is not None
        radius, dx, dy, ha, va, box = best
        leader = (
            {"arrowstyle": "-", "color": "0.6", "linewidth": 0.5, "shrinkA": 0.0, "shrinkB": 2.0}
            if radius >= LEADER_FROM_POINTS
            else None
        )
        annotation = ax.annotate(
            text, (x, y), textcoords="offset points", xytext=(dx, dy), ha=ha, va=va,
            fontsize=fontsize, color=color, arrowprops=leader, annotation_clip=False,
        )  # fmt: skip
        placed.append(annotation)
        boxes.append(tuple(box.extents))  # type: ignore[arg-type]
    return placed


def _display(ax: Axes, points: Sequence[tuple[float, float]]) -> np.ndarray:
    """``points`` (data coordinates) in display units, the non-finite left out."""
    if not len(points):
        return np.empty((0, 2))
    out = ax.transData.transform(np.asarray(points, dtype=float).reshape(-1, 2))
    return out[np.isfinite(out).all(axis=1)]


def _segment_boxes(vertices: np.ndarray, px: float) -> list[tuple[float, float, float, float]]:
    """Small boxes (a point a side) along the polyline ``vertices`` (display units),
    a box every 2 points: what a label must not sit on."""
    half = 0.5 * px
    out: list[tuple[float, float, float, float]] = []
    for a, b in zip(vertices[:-1], vertices[1:], strict=True):
        steps = max(1, int(math.hypot(*(b - a)) / (2.0 * px)))
        for t in np.linspace(0.0, 1.0, steps + 1):
            cx, cy = a + t * (b - a)
            out.append((cx - half, cy - half, cx + half, cy + half))
    return out


def _overlaps(box: Bbox, taken: np.ndarray) -> float:
    """The area ``box`` shares with the boxes ``taken`` (rows x0, y0, x1, y1), summed."""
    if not len(taken):
        return 0.0
    w = np.minimum(box.x1, taken[:, 2]) - np.maximum(box.x0, taken[:, 0])
    h = np.minimum(box.y1, taken[:, 3]) - np.maximum(box.y0, taken[:, 1])
    return float((np.clip(w, 0.0, None) * np.clip(h, 0.0, None)).sum())


def _box(x: float, y: float, width: float, height: float, ha: str, va: str) -> Bbox:
    """The box of a text of ``width`` x ``height`` aligned ``ha``, ``va`` at ``(x, y)``."""
    x0 = x if ha == "left" else x - width if ha == "right" else x - width / 2
    y0 = y if va == "bottom" else y - height if va == "top" else y - height / 2
    return Bbox.from_extents(x0, y0, x0 + width, y0 + height)


def _outside(box: Bbox, frame: Bbox) -> float:
    """The area of ``box`` outside ``frame``."""
    inside = _overlaps(box, np.array([frame.extents]))
    return float(box.width * box.height - inside)
