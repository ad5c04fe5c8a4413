"""More charts (same conventions as :mod:`.charts`): the forest plot of paired deltas, the primary metric
against a swept fine-tuning parameter, and operating points drawn on ROC / PR curves."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from markupsafe import Markup

from . import charts
from .charts import RC, Curve, _figure, _legend, short

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
    with matplotlib.rc_context(RC):
        fig = _figure(2.55 * cols + 1.9, (0.24 * k + 0.75) * rows + 0.2, left=2.0, right=0.15, wspace=0.12,
                      hspace=0.9, top=0.3, bottom=0.35)
        axes = fig.subplots(rows, cols, squeeze=False)
        for i, ax in enumerate(axes.flat):
            if i >= n:
                ax.set_visible(False)
                continue
            p = panels[i]
            y = np.arange(len(p.items))[::-1]
            ax.axvline(0, color="#9ca3af", lw=0.8)
            for yy, it in zip(y, p.items):
                c = KIND_COLOURS.get(it.kind, "#4b5563")
                if it.low is not None and it.high is not None:
                    ax.plot([it.low, it.high], [yy, yy], color=c, lw=1.6, solid_capstyle="butt")
                marker = "^" if it.kind == "better" else "v" if it.kind == "worse" else "o"
                ax.plot([it.delta], [yy], marker=marker, color=c, ms=5, ls="none")
            ax.set_yticks(y)
            ax.set_yticklabels([short(it.label, 34) for it in p.items] if i % cols == 0 else [""] * len(y))
            ax.set_ylim(-0.7, len(p.items) - 0.3)
            ax.grid(axis="y", visible=False)
            ax.set_title(short(p.title, 30), fontsize=8.5)
            ax.tick_params(axis="x", labelsize=7)
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4, symmetric=True))
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
    with matplotlib.rc_context(RC):
        fig = _figure(5.2, 3.3, left=0.7, bottom=0.55)
        ax = fig.add_subplot()
        order = sorted(points, key=lambda p: p.x)
        ax.plot([p.x for p in order], [p.y for p in order], color="#9ca3af", lw=1, ls=":")
        right = max(p.x for p in order)
        for i, p in enumerate(order):
            if p.low is not None and p.high is not None:
                ax.plot([p.x, p.x], [p.low, p.high], color=p.colour, lw=1.4)
            ax.plot([p.x], [p.y], marker="o", color=p.colour, ms=6, ls="none")
            last = p.x == right
            ax.annotate(short(p.label, 22), (p.x, p.y), textcoords="offset points",
                        xytext=(-5 if last else 5, 8 if i % 2 else -12), ha="right" if last else "left", fontsize=7,
                        color="#374151", annotation_clip=True)
        ax.set(xlabel=x_title, ylabel=y_title, title=f"Held-out {y_title} against {x_title}")
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


def _marks(ax, points: Sequence[OperatingPoint]) -> tuple[list, list]:
    handles, labels, seen = [], [], set()
    for p in points:
        m = MARKERS.get(p.name, "s")
        ax.plot([p.x], [p.y], marker=m, ms=6.5, ls="none", color=p.colour, markeredgecolor="#111827",
                    markeredgewidth=0.8, zorder=5)[0]
        if p.name not in seen:
            seen.add(p.name)
            handles.append(ax.plot([], [], marker=m, ms=6, ls="none", color="white", markeredgecolor="#111827")[0])
            labels.append(p.name)
    return handles, labels


def curve_with_points(curves: Sequence[Curve], points: Sequence[OperatingPoint], kind: str, prevalence: float | None,
                      key: str) -> Markup:
    """ROC (kind "roc": FPR, TPR) or PR (kind "pr": recall, precision) curves with operating points marked."""
    with matplotlib.rc_context(RC):
        fig = _figure(4.6, 4.2)
        ax = fig.add_subplot()
        if kind == "roc":
            ax.plot([0, 1], [0, 1], color="#d1d5db", lw=1, ls=":")
        elif prevalence is not None:
            ax.axhline(prevalence, color="#d1d5db", lw=1, ls=":")
        handles = [ax.plot(c.x, c.y, color=c.style.colour, ls=c.style.linestyle,
                           drawstyle="steps-post" if kind == "pr" else "default")[0] for c in curves]
        labels = [f"{short(c.name)} ({c.score})" for c in curves]
        mh, ml = _marks(ax, points)
        if kind == "roc":
            ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="False positive rate", ylabel="True positive rate",
                   title="ROC curve", aspect="equal")
        else:
            ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="Recall", ylabel="Precision", title="Precision-recall curve",
                   aspect="equal")
        _legend(ax, handles + mh, labels + ml, loc="lower right" if kind == "roc" else "lower left")
        what = "ROC curves" if kind == "roc" else "Precision-recall curves"
        return charts.figure_svg(fig, key, f"{what}: " + "; ".join(f"{c.name} {c.score}" for c in curves)
                          + "; operating points: " + "; ".join(f"{p.model} {p.name}" for p in points))
