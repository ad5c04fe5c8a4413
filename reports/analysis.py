"""View models derived from predictions.jsonl: ROC/PR curves, confusion matrices, per-class scores, calibration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import charts, figures, tables, thresholds
from .charts import Style
from .modelrows import ModelRows, as_model_rows
from .sections import d, is_best, num

Row = dict[str, Any]


def _rgba(rgb: tuple[int, int, int], share: float) -> str:
    # numbers only: the style attribute never carries text from the results file
    return f"background-color: rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, {0.06 + 0.84 * share:.3f})"


_BLUE, _RED = (0, 114, 178), (213, 94, 0)
CURVE_POINTS = 1500


def confusion_section(groups: Mapping[str, ModelRows | list[Row]], labels: Sequence[dict[str, str]],
                      styles: dict[str, Style]) -> list[dict[str, Any]]:
    names = [lab["name"] for lab in labels]
    out = []
    for model, rows in groups.items():
        if not rows:
            continue
        cm = tables.confusion(rows, names)
        body = []
        for i, lab in enumerate(labels):
            cells = []
            for j, col in enumerate(labels):
                share = cm.share(i, j)
                cells.append({"count": cm.matrix[i][j], "share": share, "diag": i == j, "invalid": False,
                              "style": _rgba(_BLUE, share) if cm.matrix[i][j] else "",
                              "dark": share >= 0.5,
                              "title": f"gold {lab['display']} → predicted {col['display']}: "
                                       f"{cm.matrix[i][j]} of {cm.totals[i]} ({share:.0%})"})
            share = cm.share(i, None)
            cells.append({"count": cm.invalid[i], "share": share, "diag": False, "invalid": True,
                          "style": _rgba(_RED, share) if cm.invalid[i] else "", "dark": share >= 0.5,
                          "title": f"gold {lab['display']}: no valid prediction (invalid output or failed request): "
                                   f"{cm.invalid[i]} of {cm.totals[i]} ({share:.0%})"})
            body.append({"label": lab["display"], "name": lab["name"], "cells": cells, "total": cm.totals[i]})
        out.append({"model": model, "style": styles.get(model), "rows": body, "skipped": cm.skipped,
                    "n": sum(cm.totals)})
    return out


def per_class_section(groups: Mapping[str, ModelRows | list[Row]], labels: Sequence[dict[str, str]]
                      ) -> list[dict[str, Any]]:
    """One entry per class: its support and, per model, precision/recall/F1 (best F1 marked)."""
    names = [lab["name"] for lab in labels]
    scores = {m: tables.per_class(rows, names) for m, rows in groups.items() if rows}
    if not scores:
        return []
    out = []
    for i, lab in enumerate(labels):
        per_model = [(m, s[i]) for m, s in scores.items()]
        defined = [s.f1 for _, s in per_model if s.f1 is not None]
        best = max(defined) if defined else None
        out.append({"label": lab["display"], "name": lab["name"], "support": per_model[0][1].support,
                    "models": [{"model": m, "precision": s.precision, "recall": s.recall, "f1": s.f1,
                                "predicted": s.predicted,
                                "best": len(per_model) > 1 and s.f1 is not None and best is not None
                                and is_best(s.f1, best)}
                               for m, s in per_model]})
    return out


def _decimate(x: np.ndarray, y: np.ndarray, limit: int = CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``limit`` points of a long curve (evenly spaced, ends kept): the page stays small."""
    if len(x) <= limit:
        return x, y
    idx = np.unique(np.r_[np.linspace(0, len(x) - 1, limit).astype(int), len(x) - 1])
    return x[idx], y[idx]


def _scores(rows: ModelRows | Sequence[Row], names: Sequence[str], positive: str
            ) -> tuple[np.ndarray, np.ndarray] | None:
    gold, probs = tables._prob_matrix(rows, names)
    if len(gold) == 0:
        return None
    pos = list(names).index(positive)
    p = probs / probs.sum(axis=1, keepdims=True)
    return gold == pos, p[:, pos]


def curves_section(groups: Mapping[str, ModelRows | list[Row]], labels: Sequence[dict[str, str]], positive: str | None,
                   styles: dict[str, Style], targets: dict[str, float] | None = None,
                   validation: Mapping[str, ModelRows | list[Row]] | None = None) -> dict[str, Any]:
    names = [lab["name"] for lab in labels]
    note = None
    if positive not in names:
        if positive is not None:
            note = f"the positive class {positive!r} is not one of the labels; using {names[-1]!r}"
        else:
            note = f"no positive class set; using {names[-1]!r} (as the metrics do)"
        positive = names[-1]
    roc, pr, skipped, partial = [], [], [], []
    prevalence = None
    for_thresholds = []
    for model, given in groups.items():
        rows = as_model_rows(given, names)
        res = tables.binary_curves(rows, names, positive)
        if isinstance(res, str):
            skipped.append({"model": model, "reason": res})
            continue
        st = styles.get(model) or Style(charts.BASELINE_COLOUR)
        roc.append(charts.Curve(model, st, *_decimate(res.fpr, res.tpr), f"AUC {res.auc:.3f}"))
        pr.append(charts.Curve(model, st, *_decimate(res.recall, res.precision), f"AP {res.ap:.3f}"))
        if prevalence is None:  # gold labels are aligned by id: the same for every model
            prevalence = int((rows.gold == names.index(positive)).sum()) / len(rows)
        if res.n < len(rows):
            partial.append({"model": model, "n": res.n, "total": len(rows)})
        ys = _scores(rows, names, positive)
        val = _scores(as_model_rows((validation or {}).get(model) or [], names), names, positive) \
            if validation else None
        if ys is not None:
            for_thresholds.append((model, st, ys[0], ys[1], val))
    display = {lab["name"]: lab["display"] for lab in labels}
    ops = thresholds.section(for_thresholds, targets or {})
    marks = []
    for row in ops["rows"]:
        colour = (styles.get(row["model"]) or Style(charts.BASELINE_COLOUR)).colour
        for p in row["points"]:
            if p["reachable"] and p["recall"] is not None and p["fpr"] is not None and p["precision"] is not None:
                marks.append((row["model"], colour, p["name"], p["fpr"], p["recall"], p["precision"]))
    roc_pts = [figures.OperatingPoint(m, c, n, x, y) for m, c, n, x, y, _ in marks]
    pr_pts = [figures.OperatingPoint(m, c, n, y, prec) for m, c, n, _, y, prec in marks]
    return {"positive": display.get(positive, positive), "note": note, "skipped": skipped, "partial": partial,
            "roc": charts.draw(figures.curve_with_points, roc, roc_pts, "roc", None, "roc") if roc else None,
            "pr": charts.draw(figures.curve_with_points, pr, pr_pts, "pr", prevalence, "pr") if pr else None,
            "thresholds": ops}


def calibration_section(results: dict[str, Any], groups: Mapping[str, ModelRows | list[Row]],
                        labels: Sequence[dict[str, str]], styles: dict[str, Style]) -> dict[str, Any]:
    names = [lab["name"] for lab in labels]
    bins = num(d(d(results.get("suite")).get("metric_options")).get("ece_bins"))
    n_bins = int(bins) if bins is not None and bins >= 1 else 10  # the ece metric's bins (default 10)
    ece_reported = {d(m).get("name"): num(d(d(d(m).get("metrics")).get("ece")).get("value"))
                    for m in results.get("models") or [] if isinstance(m, dict)}
    panels, skipped = [], []
    for model, rows in groups.items():
        cal = tables.calibration(rows, names, n_bins)
        if cal is None:
            skipped.append({"model": model, "reason": "no probabilities"})
            continue
        ece = ece_reported.get(model)
        panels.append(charts.Reliability(model, styles.get(model) or Style(charts.BASELINE_COLOUR), cal.edges,
                                         cal.accuracy, cal.confidence, cal.counts,
                                         f"ECE {ece if ece is not None else cal.ece:.3f}"))
    svg = charts.draw(charts.reliability_chart, panels, "calibration") if panels else None
    return {"svg": svg, "skipped": skipped, "bins": n_bins}
