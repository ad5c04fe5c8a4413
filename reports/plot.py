"""A small SVG plotting kit for the report's charts: figures of axes with lines, markers, bars, text, ticks,
grids and legends, written straight to SVG text.

The report drew its charts with matplotlib until issue 14: importing it and drawing took 1-1.5 s of every
``harness run``, longer than everything else the run does after its last response. The charts need a fraction
of it — straight lines, a few marker shapes, bars, text — so this module writes them directly (in well under
10 ms). Units are points (1/72 inch; figure sizes are given in inches, as matplotlib's were), the y axis
points up in data coordinates, every number is written with at most 2 decimals, and text goes through
:func:`markupsafe.escape`, so nothing in a chart can be markup. :func:`harness_reports.svg.check_svg` checks
the result as it checked matplotlib's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import escape

PT = 72.0
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
INK, LABEL_INK, TICK_INK, SPINE, GRID = "#111827", "#374151", "#4b5563", "#9ca3af", "#e5e7eb"
DASHES = {"-": None, "--": (3.7, 1.6), ":": (1.0, 1.65)}  # per unit of line width, as matplotlib's


def _n(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def text_width(s: str, size: float) -> float:
    """An estimate of the width of ``s`` at font ``size`` (DejaVu Sans averages about 0.6 em per character)."""
    return 0.6 * size * len(s)


def nice_ticks(lo: float, hi: float, most: int = 6, symmetric: bool = False) -> list[float]:
    """At most ``most + 1`` round tick values (steps of 1, 2, 2.5 or 5 times a power of 10) covering [lo, hi]
    when ``symmetric`` (about 0), else inside it."""
    if symmetric:
        m = max(abs(lo), abs(hi)) or 1.0
        lo, hi = -m, m
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(most, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw * (1 - 1e-9))
    first = math.ceil(lo / step - 1e-9) if not symmetric else math.floor(lo / step + 1e-9)
    last = math.floor(hi / step + 1e-9) if not symmetric else math.ceil(hi / step - 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def tick_label(v: float, ticks: Sequence[float]) -> str:
    step = min((b - a for a, b in zip(ticks, ticks[1:])), default=1.0) or 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if round(step * 10**decimals, 6) % 1:  # 2.5, 0.25: one more digit
        decimals += 1
    if decimals == 0 and all(float(t).is_integer() for t in ticks):
        decimals = 1 if max((abs(t) for t in ticks), default=0) <= 10 else 0
    return f"{v:.{decimals}f}".replace("-", "−")


@dataclass
class Legend:
    entries: list[tuple[dict, str]]  # (style of the handle: {"colour", "dash", "marker", ...}, label)
    loc: str = "lower right"
    below: bool = False
    ncol: int = 1
    size: float = 8.0
    frame: bool = True


@dataclass
class Axes:
    fig: Figure
    x: float  # left, points from the figure's left
    y: float  # top, points from the figure's top
    w: float
    h: float
    xlim: tuple[float, float] = (0.0, 1.0)
    ylim: tuple[float, float] = (0.0, 1.0)
    items: list[str] = field(default_factory=list)
    overlay: list[str] = field(default_factory=list)  # not clipped: annotations, markers at the edges
    title: str = ""
    title_size: float = 10.0
    xlabel: str = ""
    ylabel: str = ""
    xticks: list[float] | None = None
    yticks: list[float] | None = None
    ytick_labels: list[str] | None = None
    show_xticklabels: bool = True
    show_yticklabels: bool = True
    xgrid: bool = True
    ygrid: bool = True
    tick_size: float = 8.0
    right_axis: bool = False  # a twin: ticks and label on the right
    legend: Legend | None = None
    visible: bool = True

    def equal_aspect(self) -> None:
        """Shrink the box (centred) so one unit is as long on both axes."""
        ux = self.w / (self.xlim[1] - self.xlim[0])
        uy = self.h / (self.ylim[1] - self.ylim[0])
        if ux > uy:
            w = uy * (self.xlim[1] - self.xlim[0])
            self.x, self.w = self.x + (self.w - w) / 2, w
        else:
            h = ux * (self.ylim[1] - self.ylim[0])
            self.y, self.h = self.y + (self.h - h) / 2, h

    def px(self, v: float) -> float:
        return self.x + (v - self.xlim[0]) / (self.xlim[1] - self.xlim[0]) * self.w

    def py(self, v: float) -> float:
        return self.y + self.h - (v - self.ylim[0]) / (self.ylim[1] - self.ylim[0]) * self.h

    def twin(self) -> Axes:
        t = Axes(self.fig, self.x, self.y, self.w, self.h, self.xlim, self.ylim, right_axis=True, xgrid=False,
                 ygrid=False, xticks=[])
        self.fig.axes.append(t)
        return t

    def plot(self, xs: Sequence[float], ys: Sequence[float], colour: str, lw: float = 1.6, ls: str = "-",
             alpha: float = 1.0, steps: bool = False, clip: bool = True) -> None:
        pts = [(float(a), float(b)) for a, b in zip(xs, ys) if math.isfinite(a) and math.isfinite(b)]
        if len(pts) < 2:
            return
        if steps:
            pts = [p for i, (a, b) in enumerate(pts) for p in ([(a, b)] if i == 0 else [(a, pts[i - 1][1]), (a, b)])]
        d = "M" + " L".join(f"{_n(self.px(a))} {_n(self.py(b))}" for a, b in pts)
        (self.items if clip else self.overlay).append(
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{_n(lw)}"{_dash(ls, lw)}'
            f'{_alpha(alpha, "stroke")} stroke-linejoin="round" stroke-linecap="butt"/>')

    def markers(self, xs: Sequence[float], ys: Sequence[float], shape: str, size: float, fill: str,
                edge: str | None = None, edge_width: float = 1.0) -> None:
        for a, b in zip(xs, ys):
            if math.isfinite(a) and math.isfinite(b):
                self.overlay.append(marker(shape, self.px(a), self.py(b), size, fill, edge or fill, edge_width))

    def bars(self, lefts: Sequence[float], heights: Sequence[float], widths: Sequence[float], colour: str,
             alpha: float = 1.0, edge: str = "white", edge_width: float = 0.6) -> None:
        for x0, hgt, w in zip(lefts, heights, widths):
            top, bottom = self.py(hgt), self.py(self.ylim[0] if self.ylim[0] > 0 else 0.0)
            left, width = self.px(x0), self.px(x0 + w) - self.px(x0)
            self.items.append(f'<rect x="{_n(left)}" y="{_n(min(top, bottom))}" width="{_n(width)}" '
                              f'height="{_n(abs(bottom - top))}" fill="{colour}"{_alpha(alpha, "fill")} '
                              f'stroke="{edge}" stroke-width="{_n(edge_width)}"/>')

    def hline(self, y: float, colour: str, lw: float = 1.0, ls: str = "-") -> None:
        self.plot([self.xlim[0], self.xlim[1]], [y, y], colour, lw, ls)

    def vline(self, x: float, colour: str, lw: float = 1.0, ls: str = "-") -> None:
        self.plot([x, x], [self.ylim[0], self.ylim[1]], colour, lw, ls)

    def text(self, x: float, y: float, s: str, size: float = 8.0, colour: str = INK, ha: str = "left",
             va: str = "baseline", rotation: float = 0.0, weight: str = "normal", axes_coords: bool = False,
             offset: tuple[float, float] = (0.0, 0.0)) -> None:
        if axes_coords:
            px, py = self.x + x * self.w, self.y + (1 - y) * self.h
        else:
            px, py = self.px(x), self.py(y)
        self.overlay.append(text(px + offset[0], py - offset[1], s, size, colour, ha, va, rotation, weight))


def _dash(ls: str, lw: float) -> str:
    pattern = DASHES.get(ls)
    return "" if pattern is None else f' stroke-dasharray="{_n(pattern[0] * lw)},{_n(pattern[1] * lw)}"'


def _alpha(alpha: float, what: str) -> str:
    return "" if alpha >= 1 else f' {what}-opacity="{_n(alpha)}"'


def text(x: float, y: float, s: str, size: float, colour: str = INK, ha: str = "left", va: str = "baseline",
         rotation: float = 0.0, weight: str = "normal") -> str:
    anchor = {"left": "start", "center": "middle", "right": "end"}[ha]
    shift = {"baseline": 0.0, "bottom": -0.2, "center": 0.35, "top": 0.75, "center_baseline": 0.35}[va] * size
    rot = f' transform="rotate({_n(-rotation)} {_n(x)} {_n(y)})"' if rotation else ""  # about the anchor
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{_n(x)}" y="{_n(y + shift)}" font-size="{_n(size)}" fill="{colour}" '
            f'text-anchor="{anchor}"{bold}{rot}>{escape(s)}</text>')


def marker(shape: str, x: float, y: float, size: float, fill: str, edge: str, edge_width: float = 1.0) -> str:
    """A marker of ``size`` points (matplotlib's markersize) centred on (x, y)."""
    r = size / 2
    common = f'fill="{fill}" stroke="{edge}" stroke-width="{_n(edge_width)}"'
    if shape in ("o", "."):
        rr = r if shape == "o" else r * 0.5
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(rr)}" {common}/>'
    if shape == "s":
        return f'<rect x="{_n(x - r)}" y="{_n(y - r)}" width="{_n(size)}" height="{_n(size)}" {common}/>'
    pts = {"D": [(0, -r * 1.2), (r, 0), (0, r * 1.2), (-r, 0)],
           "^": [(0, -r * 1.15), (r, r * 0.85), (-r, r * 0.85)],
           "v": [(0, r * 1.15), (r, -r * 0.85), (-r, -r * 0.85)]}[shape]
    return f'<polygon points="{" ".join(f"{_n(x + a)},{_n(y + b)}" for a, b in pts)}" {common}/>'


def handle(style: dict, x: float, y: float, length: float) -> list[str]:
    """A legend's sample of a line and/or marker, ``length`` points long, centred vertically on ``y``."""
    out = []
    if style.get("colour") and style.get("line", True):
        lw = style.get("lw", 1.6)
        out.append(f'<path d="M{_n(x)} {_n(y)} L{_n(x + length)} {_n(y)}" stroke="{style["colour"]}" '
                   f'stroke-width="{_n(lw)}"{_dash(style.get("ls", "-"), lw)}/>')
    if style.get("marker"):
        out.append(marker(style["marker"], x + length / 2, y, style.get("ms", 6.0), style.get("fill", "white"),
                          style.get("edge", INK), style.get("mew", 1.0)))
    return out


class Figure:
    """A figure ``width`` x ``height`` inches with fixed margins (inches), like matplotlib's subplots_adjust."""

    def __init__(self, width: float, height: float, left: float = 0.55, right: float = 0.15, bottom: float = 0.5,
                 top: float = 0.35, wspace: float = 0.3, hspace: float = 0.45) -> None:
        self.W, self.H = width * PT, height * PT
        self.margins = (left * PT, right * PT, bottom * PT, top * PT)
        self.wspace, self.hspace = wspace, hspace
        self.axes: list[Axes] = []

    def subplots(self, rows: int = 1, cols: int = 1) -> list[list[Axes]]:
        """A grid of axes; ``wspace``/``hspace`` are fractions of the average axes width/height, as matplotlib's."""
        left, right, bottom, top = self.margins
        width, height = self.W - left - right, self.H - top - bottom
        w = width / (cols + self.wspace * (cols - 1))
        h = height / (rows + self.hspace * (rows - 1))
        grid = [[Axes(self, left + c * w * (1 + self.wspace), top + r * h * (1 + self.hspace), w, h)
                 for c in range(cols)] for r in range(rows)]
        self.axes.extend(ax for row in grid for ax in row)
        return grid

    def svg(self, key: str) -> str:
        """The figure as SVG text (element ids start with ``key``)."""
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(self.W)} {_n(self.H)}" '
               f'font-family="{FONT}">', f'<rect width="{_n(self.W)}" height="{_n(self.H)}" fill="white"/>']
        for i, ax in enumerate(a for a in self.axes if a.visible):
            out.extend(_render(ax, f"{key}-clip{i}"))
        out.append("</svg>")
        return "\n".join(out)


def _render(ax: Axes, clip_id: str) -> list[str]:
    out = []
    # as many ticks as fit: about 3 tick font sizes apart across, 2 up the side (matplotlib's rule)
    fit_x, fit_y = max(1, min(9, int(ax.w / (3 * ax.tick_size)))), max(1, min(9, int(ax.h / (2 * ax.tick_size))))
    xt = ax.xticks if ax.xticks is not None else nice_ticks(*ax.xlim, most=fit_x)
    yt = ax.yticks if ax.yticks is not None else nice_ticks(*ax.ylim, most=fit_y)
    xt = [t for t in xt if ax.xlim[0] - 1e-9 <= t <= ax.xlim[1] + 1e-9]
    yt = [t for t in yt if ax.ylim[0] - 1e-9 <= t <= ax.ylim[1] + 1e-9]
    bottom, side = ax.y + ax.h, ax.x + ax.w if ax.right_axis else ax.x
    for t in xt if ax.xgrid else ():
        out.append(f'<path d="M{_n(ax.px(t))} {_n(ax.y)} V{_n(bottom)}" stroke="{GRID}" stroke-width="0.6"/>')
    for t in yt if ax.ygrid else ():
        out.append(f'<path d="M{_n(ax.x)} {_n(ax.py(t))} H{_n(ax.x + ax.w)}" stroke="{GRID}" stroke-width="0.6"/>')
    out.append(f'<clipPath id="{clip_id}"><rect x="{_n(ax.x)}" y="{_n(ax.y)}" width="{_n(ax.w)}" '
               f'height="{_n(ax.h)}"/></clipPath>')
    out.append(f'<g clip-path="url(#{clip_id})">')
    out.extend(ax.items)
    out.append("</g>")
    if not ax.right_axis:
        out.append(f'<path d="M{_n(ax.x)} {_n(ax.y)} V{_n(bottom)} H{_n(ax.x + ax.w)}" fill="none" '
                   f'stroke="{SPINE}" stroke-width="0.8"/>')
    else:
        out.append(f'<path d="M{_n(side)} {_n(ax.y)} V{_n(bottom)}" stroke="{SPINE}" stroke-width="0.8"/>')
    for t in xt:
        out.append(f'<path d="M{_n(ax.px(t))} {_n(bottom)} v3.5" stroke="{TICK_INK}" stroke-width="0.8"/>')
        if ax.show_xticklabels:
            out.append(text(ax.px(t), bottom + 5.5, tick_label(t, xt), ax.tick_size, TICK_INK, "center", "top"))
    labels = ax.ytick_labels if ax.ytick_labels is not None else [tick_label(t, yt) for t in yt]
    sign = 1 if ax.right_axis else -1
    for t, lab in zip(yt if ax.yticks is None else ax.yticks, labels):
        out.append(f'<path d="M{_n(side)} {_n(ax.py(t))} h{_n(3.5 * sign)}" stroke="{TICK_INK}" stroke-width="0.8"/>')
        if ax.show_yticklabels and lab:
            out.append(text(side + 5.5 * sign, ax.py(t), lab, ax.tick_size, TICK_INK,
                            "left" if ax.right_axis else "right", "center"))
    if ax.xlabel:
        below = 5.5 + ax.tick_size * 1.2 + 3.5 if ax.show_xticklabels else 6.0
        out.append(text(ax.x + ax.w / 2, bottom + below, ax.xlabel, 9, LABEL_INK, "center", "top"))
    if ax.ylabel:
        widest = max((text_width(s, ax.tick_size) for s in labels), default=0.0) if ax.show_yticklabels else 0.0
        x = side + sign * (9 + widest + (6 if not ax.right_axis else 10))
        out.append(text(x, ax.y + ax.h / 2, ax.ylabel, 9, LABEL_INK, "center", "top" if not ax.right_axis else
                        "baseline", 90 if not ax.right_axis else 90))
    if ax.title:
        out.append(text(ax.x, ax.y - 6, ax.title, ax.title_size, INK, "left", "baseline", weight="bold"))
    out.extend(ax.overlay)
    if ax.legend is not None and ax.legend.entries:
        out.extend(_legend(ax, ax.legend))
    return out


def _legend(ax: Axes, lg: Legend) -> list[str]:
    size, length, gap = lg.size, 1.8 * lg.size * 1.1, 0.5 * lg.size
    row_h = size * 1.45
    ncol = max(1, lg.ncol)
    rows = math.ceil(len(lg.entries) / ncol)
    # filled column by column, as matplotlib's
    col_w = [max((text_width(lab, size) for i, (_, lab) in enumerate(lg.entries) if i // rows == c), default=0.0)
             + length + gap * 2 for c in range(ncol)]
    width, height = sum(col_w) + gap, rows * row_h + gap
    if lg.below:
        x0, y0 = ax.x + (ax.w - width) / 2, ax.y + ax.h + max(0.17 * ax.h, 36.0)
    else:
        x0 = ax.x + ax.w - width - 6 if "right" in lg.loc else ax.x + 6
        y0 = ax.y + ax.h - height - 6 if "lower" in lg.loc else ax.y + 6
    out = []
    if lg.frame:
        out.append(f'<rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(width)}" height="{_n(height)}" rx="2" '
                   f'fill="white" fill-opacity="0.85" stroke="{GRID}" stroke-width="0.8"/>')
    for i, (style, lab) in enumerate(lg.entries):
        c, r = i // rows, i % rows
        x = x0 + gap + sum(col_w[:c])
        y = y0 + gap / 2 + r * row_h + row_h / 2
        out.extend(handle(style, x, y, length))
        out.append(text(x + length + gap, y, lab, size, INK, "left", "center"))
    return out
