"""Classification scores on the full data, computed as ``sklearn.metrics`` computes them, without importing it.

Importing scikit-learn takes about a second (it brings scipy.stats and pandas), more than everything else a
1,000-example run does after its last response. These functions take the same steps as the scikit-learn
functions named in their docstrings (the same sort, cumulative counts, curve points, trapezoids and numpy
reductions, in the same order), so they give scikit-learn's numbers to the last bit; ``tests/stats``
checks that on many random data sets, ties and edge cases included. The callers (the metric plugins) check
first that a score is defined (both classes present, ...): these functions assume it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["accuracy", "average_precision", "average_precision_macro", "binary_counts", "brier_binary",
           "brier_multiclass", "f1_average", "fbeta", "log_loss", "roc_auc", "roc_auc_ovr_macro"]

FloatArray = NDArray[np.float64]
_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """``accuracy_score(y_true, y_pred)``."""
    return float(np.average(np.asarray(y_true) == np.asarray(y_pred)))


def binary_counts(y_pos: ArrayLike, pred_pos: ArrayLike) -> tuple[int, int, int]:
    """(true positives, predicted positives, actual positives)."""
    y = np.asarray(y_pos, dtype=bool)
    p = np.asarray(pred_pos, dtype=bool)
    return int(np.count_nonzero(y & p)), int(np.count_nonzero(p)), int(np.count_nonzero(y))


def fbeta(tp: int, predicted: int, actual: int, beta: float) -> float:
    """``fbeta_score`` of the positive class from its counts: ``(1+b²)·tp / (b²·actual + predicted)``."""
    if beta == 0:  # scikit-learn: the precision
        return float(np.float64(tp) / np.float64(predicted))
    b2 = beta**2
    return float((1 + b2) * np.float64(tp) / (b2 * np.float64(actual) + np.float64(predicted)))


def f1_average(y: ArrayLike, pred: ArrayLike, n_classes: int, average: str) -> float:
    """``f1_score(y, pred, labels=range(K), average=..., zero_division=np.nan)`` ("macro" or "weighted"):
    a label outside ``range(K)`` in ``pred`` (an invalid output) is wrong for every class."""
    yy = np.asarray(y, dtype=np.int64)
    pp = np.asarray(pred, dtype=np.int64)
    k = int(n_classes)
    true_sum = np.bincount(yy, minlength=k)[:k]
    valid = (pp >= 0) & (pp < k)
    pred_sum = np.bincount(pp[valid], minlength=k)[:k]
    tp_sum = np.bincount(yy[yy == pp], minlength=k)[:k]
    denom = 1 * true_sum.astype(np.float64) + pred_sum.astype(np.float64)
    zero = denom == 0
    f = (1 + 1) * tp_sum.astype(np.float64) / np.where(zero, 1.0, denom)
    f[zero] = np.nan
    mask = np.isnan(f)
    if mask.all():
        return float("nan")
    if average == "macro":
        return float(np.nanmean(f))
    try:
        return float(np.average(f[~mask], weights=true_sum[~mask]))
    except ZeroDivisionError:  # every class with an F1 has no example: the unweighted mean
        return float(np.average(f[~mask]))


def _curve_counts(y_pos: NDArray[np.bool_], score: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(false positives, true positives) at each distinct score, from the highest down (ties together)."""
    order = np.argsort(score, kind="mergesort")[::-1]
    s = score[order]
    y = y_pos[order].astype(np.float64)
    ends = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]
    tps = np.cumsum(y * 1.0, dtype=np.float64)[ends]
    fps = 1 + ends.astype(np.float64) - tps
    return fps, tps


def roc_auc(y_pos: ArrayLike, score: ArrayLike) -> float:
    """``roc_auc_score`` of a binary task (``roc_curve`` with its collinear points dropped, trapezoids)."""
    fps, tps = _curve_counts(np.asarray(y_pos, dtype=bool), np.asarray(score, dtype=np.float64))
    if fps.size > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])
        fps, tps = fps[keep], tps[keep]
    fps = np.r_[0.0, fps]
    tps = np.r_[0.0, tps]
    return float(_trapezoid(tps / tps[-1], fps / fps[-1]))


def average_precision(y_pos: ArrayLike, score: ArrayLike) -> float:
    """``average_precision_score`` of a binary task: ``sum((R_n - R_{n-1}) · P_n)``."""
    fps, tps = _curve_counts(np.asarray(y_pos, dtype=bool), np.asarray(score, dtype=np.float64))
    ps = tps + fps
    precision = np.where(ps != 0, np.divide(tps, np.where(ps != 0, ps, 1.0)), 0.0)
    recall = tps / tps[-1] if tps[-1] != 0 else np.full(tps.shape, 1.0)
    precision = np.r_[precision[::-1], 1.0]
    recall = np.r_[recall[::-1], 0.0]
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def _macro(scores: list[float]) -> float:
    return float(np.average(np.asarray(scores, dtype=np.float64)))


def roc_auc_ovr_macro(y: ArrayLike, proba: ArrayLike, n_classes: int) -> float:
    """``roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=range(K))``."""
    p = np.asarray(proba, dtype=np.float64)
    if not np.allclose(1, p.sum(axis=1)):
        raise ValueError("Target scores need to be probabilities for multiclass roc_auc, i.e. they should sum "
                         "up to 1.0 over classes")
    yy = np.asarray(y)
    return _macro([roc_auc(yy == c, p[:, c]) for c in range(int(n_classes))])


def average_precision_macro(y: ArrayLike, proba: ArrayLike, n_classes: int) -> float:
    """``average_precision_score(one_hot(y), proba, average="macro")``."""
    p = np.asarray(proba, dtype=np.float64)
    yy = np.asarray(y)
    return _macro([average_precision(yy == c, p[:, c]) for c in range(int(n_classes))])


def log_loss(y: ArrayLike, proba: ArrayLike) -> float:
    """``log_loss(y, proba, labels=range(K))``: probabilities clipped to ``[eps, 1 - eps]``."""
    p = np.asarray(proba, dtype=np.float64)
    yy = np.asarray(y, dtype=np.int64)
    eps = np.finfo(p.dtype).eps
    p_true = np.clip(p[np.arange(yy.size), yy], eps, 1 - eps)
    return float(np.average(-np.log(p_true)))


def brier_binary(y_pos: ArrayLike, p_pos: ArrayLike) -> float:
    """``brier_score_loss(y_pos, p_pos)``: half the two-column squared error, as scikit-learn sums it."""
    t = np.asarray(y_pos, dtype=bool).astype(np.float64)
    p = np.asarray(p_pos, dtype=np.float64)
    cols = np.stack(((1.0 - t) - (1 - p), t - p), axis=1)
    return float(np.average(np.sum(cols**2, axis=1)) * 0.5)


def brier_multiclass(y: ArrayLike, proba: ArrayLike, n_classes: int) -> float:
    """``brier_score_loss(y, proba, labels=range(K))`` for three or more classes."""
    p = np.asarray(proba, dtype=np.float64)
    onehot = np.eye(int(n_classes))[np.asarray(y, dtype=np.int64)]
    score = np.average(np.sum((onehot - p) ** 2, axis=1))
    if p.shape[1] < 3:
        score *= 0.5
    return float(score)
