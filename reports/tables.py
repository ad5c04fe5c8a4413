"""Statistics derived from predictions.jsonl rows: confusion matrices, per-class scores, curves, calibration bins.

The arithmetic is plain numpy (importing scikit-learn would cost more than a second per ``harness report``);
tests/reports check every number against the scikit-learn functions of the same name.

Every function takes the rows of one model (``{"gold", "pred", "status", "probs", "flags"...}``) and the
suite's label names, and tolerates junk: a ``pred`` outside the label set counts as invalid, a row whose
``gold`` is outside the label set is ignored (and counted), ``probs`` may be null or partial.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.stats.calibration import calibration_bins, debiased_calibration_error

Row = dict[str, Any]
_NONE = "\x00invalid"  # stands for "no valid label" next to the real labels


def group_by_model(predictions: Iterable[Row], names: Sequence[str]) -> dict[str, list[Row]]:
    """Rows per model, for the models named in results.json (in that order); other rows are ignored."""
    groups: dict[str, list[Row]] = {n: [] for n in names}
    for row in predictions:
        if isinstance(row, dict) and row.get("model") in groups:
            groups[row["model"]].append(row)
    return groups


def _known(rows: Sequence[Row], labels: Sequence[str]) -> list[Row]:
    lab = set(labels)
    return [r for r in rows if r.get("gold") in lab]


def _pred(row: Row, labels: set[str]) -> str:
    p = row.get("pred")
    return p if isinstance(p, str) and p in labels else _NONE


def _matrix(known: Sequence[Row], labels: Sequence[str]) -> np.ndarray:
    """Counts, gold row x predicted column; the last column is "no valid label"."""
    index = {lb: i for i, lb in enumerate(labels)}
    k = len(labels)
    m = np.zeros((k, k + 1), dtype=np.int64)
    if known:
        gold = np.fromiter((index[r["gold"]] for r in known), dtype=np.int64, count=len(known))
        pred = np.fromiter((index.get(_pred(r, index.keys()), k) for r in known), dtype=np.int64, count=len(known))
        np.add.at(m, (gold, pred), 1)
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


def confusion(rows: Sequence[Row], labels: Sequence[str]) -> Confusion:
    known = _known(rows, labels)
    m = _matrix(known, labels)
    return Confusion(matrix=m[:, : len(labels)].astype(int).tolist(), invalid=m[:, -1].astype(int).tolist(),
                     totals=m.sum(axis=1).astype(int).tolist(), skipped=len(rows) - len(known))


@dataclass
class ClassScores:
    label: str
    precision: float | None  # None: undefined (0/0), shown as n/a
    recall: float | None
    f1: float | None
    support: int
    predicted: int


def per_class(rows: Sequence[Row], labels: Sequence[str]) -> list[ClassScores]:
    """Per-class precision/recall/F1 from the predicted label (invalid outputs count as wrong); a ratio
    with a zero denominator is undefined (None), never 0: precision of a class never predicted, recall of
    a class without examples, F1 of a class with neither."""
    known = _known(rows, labels)
    if not known:
        return []
    m = _matrix(known, labels)
    out = []
    for i, lb in enumerate(labels):
        tp, predicted, support = int(m[i, i]), int(m[:, i].sum()), int(m[i].sum())
        p = tp / predicted if predicted else None
        r = tp / support if support else None
        f = 2 * tp / (predicted + support) if predicted + support else None  # = 2pr/(p+r), without rounding
        out.append(ClassScores(lb, p, r, f, support, predicted))
    return out


def flag_counts(rows: Sequence[Row]) -> dict[str, int]:
    c: Counter[str] = Counter()
    for r in rows:
        for f in r.get("flags") or ():
            c[str(f)] += 1
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


_CACHE: dict[tuple[int, int, tuple[str, ...]], tuple[Sequence[Row], tuple[np.ndarray, np.ndarray]]] = {}


class prob_cache:  # noqa: N801 - used as a context manager
    """Within one render, each model's rows are turned into arrays once, however many sections need them."""

    def __enter__(self) -> None:
        _CACHE.clear()

    def __exit__(self, *exc: object) -> None:
        _CACHE.clear()


def _prob_matrix(rows: Sequence[Row], labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(gold index, probability rows) over the rows with usable probabilities (gold in the label set)."""
    key = (id(rows), len(rows), tuple(labels))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is rows:
        return hit[1]
    out = _prob_matrix_uncached(rows, labels)
    _CACHE[key] = (rows, out)
    return out


def _prob_matrix_uncached(rows: Sequence[Row], labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    index = {lb: i for i, lb in enumerate(labels)}
    gold, probs = [], []
    for r in rows:
        pr = r.get("probs")
        if not isinstance(pr, dict) or r.get("gold") not in index:
            continue
        try:
            vec = [float(pr.get(lb, 0.0) or 0.0) for lb in labels]
        except (TypeError, ValueError):
            continue
        if not all(np.isfinite(vec)) or sum(vec) <= 0:
            continue
        gold.append(index[r["gold"]])
        probs.append(vec)
    return np.asarray(gold, dtype=int), np.asarray(probs, dtype=float).reshape(-1, len(labels))


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


def binary_curves(rows: Sequence[Row], labels: Sequence[str], positive: str) -> BinaryCurves | str:
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


def calibration(rows: Sequence[Row], labels: Sequence[str], n_bins: int = 10) -> Calibration | None:
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
