"""Charts as inline SVG: ROC and precision-recall curves, reliability diagrams, training curves.

Drawn with the report's own SVG kit (:mod:`harness_reports.plot`; matplotlib took 1-1.5 s of every run to
import and draw them), text kept as escaped ``<text>`` elements, so a ``$`` or ``<`` in a model or label name
is shown as typed; :func:`harness_reports.svg.figure_svg` checks every chart before it reaches the page.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from markupsafe import Markup, escape

from .plot import Axes, Figure, Legend
from .svg import figure_svg

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
    """A figure with fixed margins (in inches)."""
    return Figure(w, h, **margins)


def line_style(style: Style, lw: float = 1.6) -> dict[str, Any]:
    """A legend handle for a curve drawn in ``style``."""
    return {"colour": style.colour, "ls": style.linestyle, "lw": lw}


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
    fig = _figure(2.3 * cols + 0.55, 2.45 * rows + 0.35, left=0.6, wspace=0.12, hspace=0.42, top=0.3)
    grid = fig.subplots(rows, cols)
    for i, ax in enumerate(a for row in grid for a in row):
        if i >= n:
            ax.visible = False
            continue
        p = panels[i]
        ax.tick_size = 8
        ax.plot([0, 1], [0, 1], "#9ca3af", lw=0.9, ls=":")
        ok = p.counts > 0
        widths = np.diff(p.edges)
        ax.bars(p.edges[:-1][ok], p.accuracy[ok], widths[ok], p.style.colour, alpha=0.75)
        ax.markers(p.confidence[ok], p.accuracy[ok], "o", 2.6, "#111827")
        for x0, w, c in zip(p.edges[:-1][ok], widths[ok], p.counts[ok]):  # examples per bin, at its foot
            ax.text(float(x0 + w / 2), 0.015, f"{int(c)}", size=5.5, va="center", rotation=90)
        ax.equal_aspect()
        ax.title, ax.title_size = short(p.name, 26), 8.5
        ax.text(0.04, 0.93, p.ece, size=7.5, va="top", colour="#374151", axes_coords=True)
        ax.show_yticklabels = i % cols == 0
        if ax.show_yticklabels:
            ax.ylabel = "Accuracy"
        ax.show_xticklabels = i // cols == rows - 1 or i + cols >= n
        if ax.show_xticklabels:
            ax.xlabel = "Confidence"
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


def _draw_lines(ax: Axes, lines: Sequence[Line]) -> list[tuple[dict[str, Any], str]]:
    handles = []
    for ln in lines:
        mask = ~np.isnan(ln.y)
        x, y = ln.x[mask], ln.y[mask]
        if len(y) > 60:  # raw per-batch values faint, a smoothed trend on top
            xr, yr = _decimate(x, y)
            ax.plot(xr, yr, ln.colour, lw=0.7, alpha=0.28)
            xs, ys = _decimate(x, _smooth(y))
            ax.plot(xs, ys, ln.colour, lw=1.6)
            handles.append(({"colour": ln.colour, "lw": 1.6}, ln.label))
        else:
            ax.plot(x, y, ln.colour, lw=1.4)
            if len(y) < 30:
                ax.markers(x, y, ".", 6.0, ln.colour)
            handles.append(({"colour": ln.colour, "lw": 1.4, "marker": "." if len(y) < 30 else None,
                             "fill": ln.colour, "edge": ln.colour}, ln.label))
    return handles


def _limits(values: Sequence[float], pad: float = 0.05) -> tuple[float, float]:
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    span = (hi - lo) or max(abs(hi), 1.0)
    return lo - pad * span, hi + pad * span


def training_chart(loss: Sequence[Line], acc: Sequence[Line], markers: Sequence[Marker], metric_title: str,
                   key: str, title: str) -> Markup:
    """Loss and accuracy against step; checkpoints' held-out metric on a secondary axis of the first panel."""
    panels = [p for p in (("Loss", loss), ("Training accuracy", acc)) if p[1]]
    if not panels:
        panels = [("Held-out " + metric_title, [])]
    twin_right = bool(markers) and len(panels) == 1 and bool(panels[0][1])
    fig = _figure(4.9 * len(panels) + (0.55 if twin_right else 0), 4.0, right=0.75 if twin_right else 0.2,
                  wspace=0.34 if markers else 0.22, bottom=1.05)
    axes = fig.subplots(1, len(panels))[0]
    for ax, (name, lines) in zip(axes, panels):
        xs = [float(v) for ln in lines for v in ln.x] + ([m.step for m in markers] if ax is axes[0] else [])
        ys = [float(v) for ln in lines for v in ln.y]
        ax.xlim = _limits(xs)
        ax.ylim = _limits(ys)
        handles = _draw_lines(ax, lines)
        ax.xlabel, ax.title = "Step", name
        if ax is axes[0] and markers:
            twin = ax.twin() if lines else ax
            vals = [m.value for m in markers]
            lo, hi = min(vals), max(vals)
            pad = max(0.04, (hi - lo) * 0.25)
            twin.ylim = (max(0.0, lo - pad) if lo >= 0 else lo - pad, min(1.0, hi + pad) if hi <= 1 else hi + pad)
            ckpt = [m for m in markers if not m.base]
            if ckpt:
                twin.plot([m.step for m in ckpt], [m.value for m in ckpt], "#111827", lw=1, ls=":", clip=False)
                twin.markers([m.step for m in ckpt], [m.value for m in ckpt], "D", 5.5, "#f59e0b", "#111827")
                handles.append(({"colour": "#111827", "lw": 1, "ls": ":", "marker": "D", "ms": 5.5,
                                 "fill": "#f59e0b"}, f"held-out {metric_title} (checkpoints)"))
            for m in markers:
                if m.base:
                    twin.markers([m.step], [m.value], "o", 6, "white", "#111827")
                    handles.append(({"marker": "o", "fill": "white", "line": False},
                                    f"held-out {metric_title} (base)"))
                if m.base or m.best:  # every value is in the checkpoint table; label the two that matter
                    twin.text(m.step, m.value, f"{m.value:.3f}" + (" ★" if m.best else ""), size=7.5, ha="center",
                              offset=(0.0, 7.0), weight="bold" if m.best else "normal")
            twin.ylabel = f"Held-out {metric_title}"
        if handles:  # below the axes: never on top of a curve or a checkpoint marker
            ax.legend = Legend(handles, below=True, ncol=2, size=7.5, frame=False)
    return figure_svg(fig, key, title)
