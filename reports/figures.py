"""More charts (same conventions as :mod:`.charts`): the forest plot of paired deltas, the primary metric
against a swept fine-tuning parameter, and operating points drawn on ROC / PR curves."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from markupsafe import Markup

from . import charts
from .charts import Curve, _figure, line_style, short
from .plot import Legend, nice_ticks

KIND_COLOURS = {"better": "#1a7f37", "worse": "#cf222e", "same": "#4b5563", "none": "#9ca3af"}


@dataclass(frozen=True)
class ForestItem:
    label: str
    delta: float
    low: float | None
    high: float | None
    kind: str  # better / worse / same / none


@dataclass(frozen=True)
class ForestPanel:
    title: str
    items: Sequence[ForestItem]


def forest_chart(panels: Sequence[ForestPanel], key: str) -> Markup:
    """One panel per metric: each comparison's Δ as a dot with its interval, a line at 0; green ▲ better,
    red ▼ worse (after Holm), grey not distinguishable."""
    n = len(panels)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    k = max(len(p.items) for p in panels)
    fig = _figure(2.55 * cols + 1.9, (0.24 * k + 0.75) * rows + 0.2, left=2.0, right=0.15, wspace=0.12,
                  hspace=0.9, top=0.3, bottom=0.35)
    grid = fig.subplots(rows, cols)
    for i, ax in enumerate(a for row in grid for a in row):
        if i >= n:
            ax.visible = False
            continue
        p = panels[i]
        values = [v for it in p.items for v in (it.delta, it.low, it.high) if v is not None and math.isfinite(v)]
        lo, hi = min(values + [0.0]), max(values + [0.0])
        span = (hi - lo) or 1e-3
        ax.xlim = (lo - 0.05 * span, hi + 0.05 * span)
        ticks = nice_ticks(*ax.xlim, most=4, symmetric=True)
        ax.xticks = [t for t in ticks if ax.xlim[0] <= t <= ax.xlim[1]]
        ax.ylim = (-0.7, len(p.items) - 0.3)
        y = np.arange(len(p.items))[::-1]
        ax.vline(0.0, "#9ca3af", lw=0.8)
        for yy, it in zip(y, p.items):
            c = KIND_COLOURS.get(it.kind, "#4b5563")
            if it.low is not None and it.high is not None:
                ax.plot([it.low, it.high], [yy, yy], c, lw=1.6)
            marker = "^" if it.kind == "better" else "v" if it.kind == "worse" else "o"
            ax.markers([it.delta], [float(yy)], marker, 5, c)
        ax.yticks = [float(v) for v in y]
        ax.ytick_labels = [short(it.label, 34) for it in p.items] if i % cols == 0 else [""] * len(y)
        ax.ygrid = False
        ax.title, ax.title_size, ax.tick_size = short(p.title, 30), 8.5, 7
    title = "Forest plot of paired deltas (A − B) with confidence intervals: "
    return charts.figure_svg(fig, key, title + "; ".join(
        f"{p.title}: " + ", ".join(f"{it.label} {it.delta:+.4f}" for it in p.items) for p in panels))


@dataclass(frozen=True)
class SweepPoint:
    label: str
    x: float
    y: float
    low: float | None
    high: float | None
    colour: str


def sweep_chart(points: Sequence[SweepPoint], x_title: str, y_title: str, key: str) -> Markup:
    fig = _figure(5.2, 3.3, left=0.7, bottom=0.55)
    ax = fig.subplots()[0][0]
    order = sorted(points, key=lambda p: p.x)
    xs = [p.x for p in order]
    ys = [v for p in order for v in (p.y, p.low, p.high) if v is not None and math.isfinite(v)]
    xspan, yspan = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 0.01
    ax.xlim = (min(xs) - 0.05 * xspan, max(xs) + 0.05 * xspan)
    ax.ylim = (min(ys) - 0.05 * yspan, max(ys) + 0.05 * yspan)
    ax.plot(xs, [p.y for p in order], "#9ca3af", lw=1, ls=":")
    right = max(xs)
    for i, p in enumerate(order):
        if p.low is not None and p.high is not None:
            ax.plot([p.x, p.x], [p.low, p.high], p.colour, lw=1.4)
        ax.markers([p.x], [p.y], "o", 6, p.colour)
        last = p.x == right
        ax.text(p.x, p.y, short(p.label, 22), size=7, colour="#374151", ha="right" if last else "left",
                offset=(-5.0 if last else 5.0, 8.0 if i % 2 else -12.0))
    ax.xlabel, ax.ylabel, ax.title = x_title, y_title, f"Held-out {y_title} against {x_title}"
    return charts.figure_svg(fig, key, f"Held-out {y_title} against {x_title}: " + "; ".join(
        f"{p.label} ({p.x:g}, {p.y:.4f})" for p in points))


@dataclass(frozen=True)
class OperatingPoint:
    model: str
    colour: str
    name: str      # "0.5", "F1-optimal", "precision ≥ 0.9"
    x: float
    y: float


MARKERS = {"p > 0.5": "o", "F1-optimal": "D"}


def curve_with_points(curves: Sequence[Curve], points: Sequence[OperatingPoint], kind: str, prevalence: float | None,
                      key: str) -> Markup:
    """ROC (kind "roc": FPR, TPR) or PR (kind "pr": recall, precision) curves with operating points marked."""
    fig = _figure(4.6, 4.2)
    ax = fig.subplots()[0][0]
    ax.xlim, ax.ylim = (0.0, 1.0), (0.0, 1.01)
    ax.yticks = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ax.equal_aspect()
    if kind == "roc":
        ax.plot([0, 1], [0, 1], "#d1d5db", lw=1, ls=":")
    elif prevalence is not None:
        ax.hline(prevalence, "#d1d5db", lw=1, ls=":")
    for c in curves:
        ax.plot(c.x, c.y, c.style.colour, ls=c.style.linestyle, steps=kind == "pr")
    handles: list[tuple[dict[str, Any], str]] = [(line_style(c.style), f"{short(c.name)} ({c.score})")
                                                 for c in curves]
    seen: set[str] = set()
    for p in points:
        m = MARKERS.get(p.name, "s")
        ax.markers([p.x], [p.y], m, 6.5, p.colour, "#111827", 0.8)
        if p.name not in seen:
            seen.add(p.name)
            handles.append(({"marker": m, "ms": 6, "fill": "white", "line": False}, p.name))
    if kind == "roc":
        ax.xlabel, ax.ylabel, ax.title = "False positive rate", "True positive rate", "ROC curve"
    else:
        ax.xlabel, ax.ylabel, ax.title = "Recall", "Precision", "Precision-recall curve"
    ax.legend = Legend(handles, loc="lower right" if kind == "roc" else "lower left")
    what = "ROC curves" if kind == "roc" else "Precision-recall curves"
    return charts.figure_svg(fig, key, f"{what}: " + "; ".join(f"{c.name} {c.score}" for c in curves)
                             + "; operating points: " + "; ".join(f"{p.model} {p.name}" for p in points))
