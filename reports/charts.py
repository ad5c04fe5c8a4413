"""Charts as inline SVG: ROC and precision-recall curves, reliability diagrams, training curves.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot: no GUI backend, no global figure
registry to leak into), rendered by matplotlib's SVG backend with text kept as ``<text>`` elements
(``svg.fonttype = 'none'``) and mathtext off, so a ``$`` in a model or label name is shown as typed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
from markupsafe import Markup, escape
from matplotlib.figure import Figure

from .svg import figure_svg

RC = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.labelcolor": "#374151",
    "axes.edgecolor": "#9ca3af",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.6,
    "xtick.color": "#4b5563",
    "ytick.color": "#4b5563",
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.edgecolor": "#e5e7eb",
    "lines.linewidth": 1.6,
    "path.simplify": True,
}

# Okabe-Ito (colour-blind safe) without its yellow; the baseline is always grey and dashed.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C564B")
BASELINE_COLOUR = "#6b7280"
LEGEND_CHARS = 38


@dataclass(frozen=True)
class Style:
    colour: str
    dashed: bool = False

    @property
    def linestyle(self) -> str:
        return "--" if self.dashed else "-"


def model_styles(names: Sequence[str], baseline: str | None) -> dict[str, Style]:
    styles: dict[str, Style] = {}
    i = 0
    for name in names:
        if name == baseline:
            styles[name] = Style(BASELINE_COLOUR, True)
        else:
            # past the palette, repeat colours but dash them, so no two curves look alike
            styles[name] = Style(PALETTE[i % len(PALETTE)], (i // len(PALETTE)) % 2 == 1)
            i += 1
    return styles


def short(text: str, n: int = LEGEND_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


log = logging.getLogger(__name__)


def draw(chart: Callable[..., Markup], *args: Any, **kwargs: Any) -> Markup:
    """Call a chart function; if it fails (odd data, or an SVG that fails the safety check), the page gets a
    short note in its place instead of the whole report failing."""
    try:
        return chart(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - one chart must never take the report down
        log.warning("report chart %s not drawn: %s", getattr(chart, "__name__", chart), exc, exc_info=True)
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        return Markup('<p class="empty chart-error">This chart could not be drawn ({}).</p>').format(escape(reason))


@dataclass(frozen=True)
class Curve:
    name: str
    style: Style
    x: np.ndarray
    y: np.ndarray
    score: str  # legend suffix, e.g. "AUC 0.923"


def _figure(w: float, h: float, **margins: float) -> Figure:
    """A figure with fixed margins (in inches): much faster than constrained layout, and just as tidy here."""
    fig = Figure(figsize=(w, h))
    m = {"left": 0.55, "right": 0.15, "bottom": 0.5, "top": 0.35, "wspace": 0.3, "hspace": 0.45, **margins}
    fig.subplots_adjust(left=m["left"] / w, right=1 - m["right"] / w, bottom=m["bottom"] / h, top=1 - m["top"] / h,
                        wspace=m["wspace"], hspace=m["hspace"])
    return fig


def _legend(ax, handles, labels, **kw) -> None:
    # explicit labels: a name starting with "_" would otherwise be dropped from the legend
    ax.legend(handles, labels, **kw)


def roc_chart(curves: Sequence[Curve], key: str) -> Markup:
    with matplotlib.rc_context(RC):
        fig = _figure(4.6, 4.2)
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color="#d1d5db", lw=1, ls=":")
        handles = [ax.plot(c.x, c.y, color=c.style.colour, ls=c.style.linestyle)[0] for c in curves]
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="False positive rate", ylabel="True positive rate",
               title="ROC curve", aspect="equal")
        _legend(ax, handles, [f"{short(c.name)} ({c.score})" for c in curves], loc="lower right")
        return figure_svg(fig, key, "ROC curves: " + "; ".join(f"{c.name} {c.score}" for c in curves))


def pr_chart(curves: Sequence[Curve], prevalence: float | None, key: str) -> Markup:
    with matplotlib.rc_context(RC):
        fig = _figure(4.6, 4.2)
        ax = fig.add_subplot()
        if prevalence is not None:
            ax.axhline(prevalence, color="#d1d5db", lw=1, ls=":")
        handles = [ax.plot(c.x, c.y, color=c.style.colour, ls=c.style.linestyle, drawstyle="steps-post")[0]
                   for c in curves]
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="Recall", ylabel="Precision", title="Precision-recall curve",
               aspect="equal")
        _legend(ax, handles, [f"{short(c.name)} ({c.score})" for c in curves], loc="lower left")
        return figure_svg(fig, key, "Precision-recall curves: " + "; ".join(f"{c.name} {c.score}" for c in curves))


@dataclass(frozen=True)
class Reliability:
    name: str
    style: Style
    edges: np.ndarray      # n_bins + 1
    accuracy: np.ndarray   # per bin, NaN when empty
    confidence: np.ndarray  # mean confidence per bin, NaN when empty
    counts: np.ndarray
    ece: str               # e.g. "ECE 0.135"


def reliability_chart(panels: Sequence[Reliability], key: str) -> Markup:
    n = len(panels)
    cols = min(n, 5) if n != 6 else 3
    rows = math.ceil(n / cols)
    with matplotlib.rc_context(RC):
        fig = _figure(2.3 * cols + 0.55, 2.45 * rows + 0.35, left=0.6, wspace=0.12, hspace=0.42, top=0.3)
        axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
        for i, ax in enumerate(axes.flat):
            if i >= n:
                ax.set_visible(False)
                continue
            p = panels[i]
            ax.plot([0, 1], [0, 1], color="#9ca3af", lw=0.9, ls=":")
            ok = p.counts > 0
            widths = np.diff(p.edges)
            ax.bar(p.edges[:-1][ok], p.accuracy[ok], width=widths[ok], align="edge", color=p.style.colour,
                   alpha=0.75, edgecolor="white", linewidth=0.6)
            ax.plot(p.confidence[ok], p.accuracy[ok], ls="none", marker="o", ms=2.6, color="#111827")
            for x0, w, c in zip(p.edges[:-1][ok], widths[ok], p.counts[ok]):  # examples per bin, at its foot
                ax.text(x0 + w / 2, 0.015, f"{int(c)}", rotation=90, ha="center", va="bottom", fontsize=5.5,
                        color="#111827")
            ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal")
            ax.set_title(short(p.name, 26), fontsize=8.5)
            ax.text(0.04, 0.93, p.ece, transform=ax.transAxes, fontsize=7.5, va="top", color="#374151")
            if i % cols == 0:
                ax.set_ylabel("Accuracy")
            if i // cols == rows - 1 or i + cols >= n:
                ax.set_xlabel("Confidence")
                ax.xaxis.set_tick_params(labelbottom=True)
        return figure_svg(fig, key, "Reliability diagrams: " + "; ".join(f"{p.name} {p.ece}" for p in panels))


@dataclass(frozen=True)
class Line:
    label: str
    x: np.ndarray
    y: np.ndarray
    colour: str


@dataclass(frozen=True)
class Marker:
    label: str
    step: float
    value: float
    base: bool = False  # the base model, drawn hollow at step 0
    best: bool = False


def _smooth(y: np.ndarray) -> np.ndarray:
    """Exponential moving average that skips NaN (noisy per-batch curves)."""
    alpha = min(1.0, 20.0 / max(len(y), 1))
    out = np.empty_like(y)
    acc = np.nan
    for i, v in enumerate(y):
        if not np.isnan(v):
            acc = v if np.isnan(acc) else alpha * v + (1 - alpha) * acc
        out[i] = acc
    return out


def _decimate(x: np.ndarray, y: np.ndarray, limit: int = 1200) -> tuple[np.ndarray, np.ndarray]:
    if len(x) <= limit:
        return x, y
    idx = np.unique(np.linspace(0, len(x) - 1, limit).astype(int))
    return x[idx], y[idx]


def _draw_lines(ax, lines: Sequence[Line]) -> list:
    handles = []
    for ln in lines:
        mask = ~np.isnan(ln.y)
        x, y = ln.x[mask], ln.y[mask]
        if len(y) > 60:  # raw per-batch values faint, a smoothed trend on top
            xr, yr = _decimate(x, y)
            ax.plot(xr, yr, color=ln.colour, lw=0.7, alpha=0.28)
            xs, ys = _decimate(x, _smooth(y))
            handles.append(ax.plot(xs, ys, color=ln.colour, lw=1.6, label=ln.label)[0])
        else:
            handles.append(ax.plot(x, y, color=ln.colour, lw=1.4, marker="." if len(y) < 30 else None,
                                   label=ln.label)[0])
    return handles


def training_chart(loss: Sequence[Line], acc: Sequence[Line], markers: Sequence[Marker], metric_title: str,
                   key: str, title: str) -> Markup:
    """Loss and accuracy against step; checkpoints' held-out metric on a secondary axis of the first panel."""
    panels = [p for p in (("Loss", loss), ("Training accuracy", acc)) if p[1]]
    if not panels:
        panels = [("Held-out " + metric_title, [])]
    with matplotlib.rc_context(RC):
        twin_right = bool(markers) and len(panels) == 1 and bool(panels[0][1])
        fig = _figure(4.9 * len(panels) + (0.55 if twin_right else 0), 4.0, right=0.75 if twin_right else 0.2,
                      wspace=0.34 if markers else 0.22, bottom=1.05)
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, (name, lines) in zip(axes, panels):
            handles = _draw_lines(ax, lines)
            ax.set(xlabel="Step", title=name)
            labels = [h.get_label() for h in handles]
            if ax is axes[0] and markers:
                twin = ax.twinx() if lines else ax
                if lines:
                    twin.spines["right"].set_visible(True)
                    twin.grid(False)
                ckpt = [m for m in markers if not m.base]
                if ckpt:
                    h = twin.plot([m.step for m in ckpt], [m.value for m in ckpt], ls=":", lw=1, marker="D",
                                  ms=5.5, color="#111827", markerfacecolor="#f59e0b")[0]
                    handles.append(h)
                    labels.append(f"held-out {metric_title} (checkpoints)")
                for m in markers:
                    if m.base:
                        h = twin.plot([m.step], [m.value], ls="none", marker="o", ms=6, color="#111827",
                                      markerfacecolor="white")[0]
                        handles.append(h)
                        labels.append(f"held-out {metric_title} (base)")
                    if m.base or m.best:  # every value is in the checkpoint table; label the two that matter
                        twin.annotate(f"{m.value:.3f}" + (" ★" if m.best else ""), (m.step, m.value),
                                      textcoords="offset points", xytext=(0, 7), ha="center", fontsize=7.5,
                                      color="#111827", fontweight="bold" if m.best else "normal")
                vals = [m.value for m in markers]
                lo, hi = min(vals), max(vals)
                pad = max(0.04, (hi - lo) * 0.25)
                twin.set_ylim(max(0.0, lo - pad) if lo >= 0 else lo - pad, min(1.0, hi + pad) if hi <= 1 else hi + pad)
                twin.set_ylabel(f"Held-out {metric_title}")
            if handles:  # below the axes: never on top of a curve or a checkpoint marker
                _legend(ax, handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=2, fontsize=7.5,
                        frameon=False, handlelength=1.8, columnspacing=1.2)
        return figure_svg(fig, key, title)
