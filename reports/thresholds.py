"""Operating points of binary classifiers: precision, recall and F1 at the default rule (p > 0.5), at the
F1-optimal threshold and at the suite's target precision or recall (``thresholds:``), each marked on the ROC
and precision-recall curves.

A threshold picked on the held-out set and scored on it is optimistic (it is fitted to those examples). When
the run has a validation split, thresholds are picked on the validation predictions and the held-out numbers
at those thresholds are shown: an honest estimate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .tables import _cumulative

Array = np.ndarray


@dataclass
class Point:
    name: str              # "p > 0.5", "F1-optimal", "precision ≥ 0.9", "recall ≥ 0.95"
    threshold: float | None
    rule: str              # "p > 0.5" or "p ≥ t"
    precision: float | None
    recall: float | None
    f1: float | None
    fpr: float | None
    accuracy: float | None
    reachable: bool = True


def _stats(y: Array, positive: Array) -> tuple[float | None, ...]:
    tp = float(np.sum(y & positive))
    fp = float(np.sum(~y & positive))
    pos, neg = float(y.sum()), float((~y).sum())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / pos if pos else None
    f1 = 2 * tp / (tp + fp + pos) if tp + fp + pos else None
    fpr = fp / neg if neg else None
    accuracy = float(np.mean(y == positive)) if y.size else None
    return precision, recall, f1, fpr, accuracy


def pick(y: Array, score: Array, targets: Mapping[str, float]) -> list[tuple[str, float | None]]:
    """(name, threshold) of the F1-optimal point and of each target, chosen on (y, score); None when a
    target is not reachable. The rule is "predict positive when p ≥ threshold"."""
    order = np.sort(np.unique(score))[::-1]
    tps, fps = _cumulative(y, score)
    pos = tps[-1] if tps.size else 0.0
    out: list[tuple[str, float | None]] = []
    if pos == 0 or tps.size == 0:
        return [("F1-optimal", None)] + [(f"{k} ≥ {v:g}", None) for k, v in targets.items()]
    precision = tps / (tps + fps)
    recall = tps / pos
    f1 = 2 * tps / (tps + fps + pos)
    out.append(("F1-optimal", float(order[int(np.argmax(f1))])))
    for kind, target in targets.items():
        if kind == "precision":
            ok = np.flatnonzero(precision >= target - 1e-12)
            best = ok[np.argmax(recall[ok])] if ok.size else None
        else:
            ok = np.flatnonzero(recall >= target - 1e-12)
            best = ok[np.argmax(precision[ok])] if ok.size else None
        out.append((f"{kind} ≥ {target:g}", None if best is None else float(order[int(best)])))
    return out


def operating_points(y: Array, score: Array, targets: Mapping[str, float],
                     choose_on: tuple[Array, Array] | None = None) -> list[Point]:
    """Points on the held-out (y, score); thresholds picked on ``choose_on`` (validation) when given."""
    cy, cs = choose_on if choose_on is not None else (y, score)
    points = [Point("p > 0.5", 0.5, "p > 0.5", *_stats(y, score > 0.5))]
    for name, t in pick(cy, cs, targets):
        if t is None:
            points.append(Point(name, None, "p ≥ t", None, None, None, None, None, reachable=False))
        else:
            points.append(Point(name, t, "p ≥ t", *_stats(y, score >= t)))
    return points


def targets_of(results: Mapping[str, Any]) -> dict[str, float]:
    th = (results.get("suite") or {}).get("thresholds") or {}
    out = {}
    for key in ("precision", "recall"):
        v = th.get(key) if isinstance(th, dict) else None
        if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 1:
            out[key] = float(v)
    return out


def section(models: Sequence[tuple[str, Any, Array, Array, tuple[Array, Array] | None]], targets: Mapping[str, float]
            ) -> dict[str, Any]:
    """``models``: (name, style, y, p(positive), validation (y, p) or None) for each model with probabilities."""
    rows = []
    honest = bool(models) and all(m[4] is not None for m in models)
    for name, style, y, score, val in models:
        pts = operating_points(y, score, targets, val)
        rows.append({"model": name, "style": style, "points": [
            {"name": p.name, "threshold": p.threshold, "rule": p.rule, "precision": p.precision,
             "recall": p.recall, "f1": p.f1, "fpr": p.fpr, "accuracy": p.accuracy, "reachable": p.reachable}
            for p in pts]})
    return {"rows": rows, "targets": [f"{k} ≥ {v:g}" for k, v in targets.items()], "chosen_on_validation": honest}
