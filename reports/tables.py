"""Statistics derived from predictions.jsonl rows: confusion matrices, per-class scores, curves, calibration bins.

The arithmetic is plain numpy (importing scikit-learn would cost more than a second per ``harness report``);
tests/reports check every number against the scikit-learn functions of the same name.

Every function takes one model's rows — as :class:`~harness_reports.modelrows.ModelRows`, or as the rows of
predictions.jsonl (``{"gold", "pred", "status", "probs", "flags"...}``) — and the suite's label names, and
tolerates junk: a ``pred`` outside the label set counts as invalid, a row whose ``gold`` is outside the label
set is ignored (and counted), ``probs`` may be null or partial.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.stats.calibration import calibration_bins, debiased_calibration_error

from .modelrows import ModelRows, as_model_rows

Row = dict[str, Any]


def group_by_model(predictions: Iterable[Row], names: Sequence[str]) -> dict[str, list[Row]]:
    """Rows per model, for the models named in results.json (in that order); other rows are ignored."""
    groups: dict[str, list[Row]] = {n: [] for n in names}
    for row in predictions:
        if isinstance(row, dict) and row.get("model") in groups:
            groups[row["model"]].append(row)
    return groups


def _matrix(rows: ModelRows, labels: Sequence[str]) -> np.ndarray:
    """Counts, gold row x predicted column, over the rows whose gold label is a label; the last column is "no
    valid label"."""
    k = len(labels)
    m = np.zeros((k, k + 1), dtype=np.int64)
    known = rows.gold >= 0
    np.add.at(m, (rows.gold[known], np.where(rows.pred[known] >= 0, rows.pred[known], k)), 1)
    return m


@dataclass
class Confusion:
    matrix: list[list[int]]   # gold row x predicted column, label order
    invalid: list[int]        # per gold row: pred null/unknown (invalid output or failed request)
    totals: list[int]         # per gold row
    skipped: int              # rows whose gold label is not in the label set

    def share(self, i: int, j: int | None) -> float:
        """Row-normalised share of cell (i, j); j None = the invalid/failed column."""
        total = self.totals[i]
        count = self.invalid[i] if j is None else self.matrix[i][j]
        return count / total if total else 0.0


def confusion(rows: ModelRows | Sequence[Row], labels: Sequence[str]) -> Confusion:
    mr = as_model_rows(rows, labels)
    m = _matrix(mr, labels)
    return Confusion(matrix=m[:, : len(labels)].astype(int).tolist(), invalid=m[:, -1].astype(int).tolist(),
                     totals=m.sum(axis=1).astype(int).tolist(), skipped=len(mr) - int((mr.gold >= 0).sum()))


@dataclass
class ClassScores:
    label: str
    precision: float | None  # None: undefined (0/0), shown as n/a
    recall: float | None
    f1: float | None
    support: int
    predicted: int


def per_class(rows: ModelRows | Sequence[Row], labels: Sequence[str]) -> list[ClassScores]:
    """Per-class precision/recall/F1 from the predicted label (invalid outputs count as wrong); a ratio
    with a zero denominator is undefined (None), never 0: precision of a class never predicted, recall of
    a class without examples, F1 of a class with neither."""
    mr = as_model_rows(rows, labels)
    if not (mr.gold >= 0).any():
        return []
    m = _matrix(mr, labels)
    out = []
    for i, lb in enumerate(labels):
        tp, predicted, support = int(m[i, i]), int(m[:, i].sum()), int(m[i].sum())
        p = tp / predicted if predicted else None
        r = tp / support if support else None
        f = 2 * tp / (predicted + support) if predicted + support else None  # = 2pr/(p+r), without rounding
        out.append(ClassScores(lb, p, r, f, support, predicted))
    return out


def flag_counts(rows: ModelRows | Sequence[Row]) -> dict[str, int]:
    if isinstance(rows, ModelRows):
        return dict(rows.flags)
    c: Counter[str] = Counter()
    for r in rows:
        for f in r.get("flags") or ():
            c[str(f)] += 1
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


def _prob_matrix(rows: ModelRows | Sequence[Row], labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(gold index, probability rows) over the rows with usable probabilities (gold in the label set)."""
    mr = as_model_rows(rows, labels)
    ok = mr.with_probs
    return mr.gold[ok].astype(int), mr.probs[ok].reshape(-1, len(labels))


def _cumulative(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True/false positives counted at each distinct threshold, from the highest score down (ties together)."""
    order = np.argsort(-score, kind="mergesort")
    score, y = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    tps = np.cumsum(y)[last].astype(float)
    return tps, (last + 1) - tps


@dataclass
class BinaryCurves:
    n: int
    fpr: np.ndarray
    tpr: np.ndarray
    auc: float
    recall: np.ndarray
    precision: np.ndarray
    ap: float


def binary_curves(rows: ModelRows | Sequence[Row], labels: Sequence[str], positive: str) -> BinaryCurves | str:
    """ROC and PR curves for the positive class, or the reason they cannot be drawn."""
    gold, probs = _prob_matrix(rows, labels)
    if len(gold) == 0:
        return "no probabilities"
    pos = list(labels).index(positive)
    y = gold == pos
    if y.all() or not y.any():
        return "only one class among the examples with probabilities"
    tps, fps = _cumulative(y, probs[:, pos])
    P, N = tps[-1], fps[-1]
    fpr, tpr = np.r_[0.0, fps / N], np.r_[0.0, tps / P]
    precision = tps / (tps + fps)
    recall = tps / P
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    # PR points in decreasing recall, ending at (0, 1): drawn as steps-post, this is the curve AP integrates
    return BinaryCurves(n=len(y), fpr=fpr, tpr=tpr, auc=float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)),
                        recall=np.r_[recall[::-1], 0.0], precision=np.r_[precision[::-1], 1.0], ap=ap)


@dataclass
class Calibration:
    n: int
    edges: np.ndarray
    accuracy: np.ndarray
    confidence: np.ndarray
    counts: np.ndarray
    ece: float


def calibration(rows: ModelRows | Sequence[Row], labels: Sequence[str], n_bins: int = 10) -> Calibration | None:
    """Top-label reliability bins, binned exactly as the ``ece`` metric bins them (right-closed)."""
    gold, probs = _prob_matrix(rows, labels)
    if len(gold) == 0:
        return None
    probs = probs / probs.sum(axis=1, keepdims=True)
    conf = np.clip(probs.max(axis=1), 0.0, 1.0)
    correct = probs.argmax(axis=1) == gold
    idx = calibration_bins(conf, n_bins)
    counts = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.bincount(idx, weights=correct.astype(float), minlength=n_bins) / counts
        mean_conf = np.bincount(idx, weights=conf, minlength=n_bins) / counts
    return Calibration(n=len(conf), edges=np.linspace(0, 1, n_bins + 1), accuracy=acc, confidence=mean_conf,
                       counts=counts, ece=debiased_calibration_error(conf, correct, n_bins))
