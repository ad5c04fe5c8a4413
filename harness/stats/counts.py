"""Resampled confusion counts: precision / recall / F-beta of a positive class, macro and weighted F1.

Every ratio is NaN where it is undefined (0/0) — a resample, or a data set, with no predicted positive has
no precision — never scikit-learn's ``zero_division=0``. Counts are integer sums, so these statistics are
exact and do not depend on how resamples are chunked.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_bool_1d, as_weights, nan_div, same_length

FloatArray = NDArray[np.float64]

__all__ = ["BinaryCounts", "MulticlassCounts", "average_f1", "f1_macro", "f1_weighted", "fbeta",
           "fbeta_from_counts", "precision", "recall"]

_DENSE_MAX_COLUMNS = 48


class BinaryCounts:
    """Resampled confusion counts of a binary task (positive class = True)."""

    def __init__(self, y_pos: ArrayLike, pred_pos: ArrayLike) -> None:
        y = as_bool_1d(y_pos, "y_pos")
        p = as_bool_1d(pred_pos, "pred_pos")
        self.n = same_length(y_pos=y, pred_pos=p)
        self._design = np.column_stack([y & p, p, y]).astype(np.float64)

    def counts(self, W: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return ``(tp, predicted positives, actual positives)``, each ``(b,)``."""
        s = as_weights(W, self.n) @ self._design
        return s[:, 0], s[:, 1], s[:, 2]

    def precision(self, W: ArrayLike) -> FloatArray:
        """NaN where a resample has no predicted positive."""
        tp, pp, _ = self.counts(W)
        return nan_div(tp, pp)

    def recall(self, W: ArrayLike) -> FloatArray:
        """NaN where a resample has no positive example."""
        tp, _, ap = self.counts(W)
        return nan_div(tp, ap)

    def fbeta(self, W: ArrayLike, beta: float = 1.0) -> FloatArray:
        """``(1+b^2)·tp / (b^2·P + PP)``; NaN where there is neither a positive nor a predicted positive."""
        tp, pp, ap = self.counts(W)
        return fbeta_from_counts(tp, pp, ap, beta)


def fbeta_from_counts(tp: FloatArray, pp: FloatArray, ap: FloatArray, beta: float = 1.0) -> FloatArray:
    """``(1+b^2)·tp / ((1+b^2)·tp + b^2·fn + fp) = (1+b^2)·tp / (b^2·P + PP)``, NaN where undefined."""
    if beta < 0:
        raise ValueError("beta must be non-negative")
    b2 = beta * beta
    return nan_div((1.0 + b2) * tp, b2 * ap + pp)


def precision(y_pos: ArrayLike, pred_pos: ArrayLike, W: ArrayLike) -> FloatArray:
    """Resampled precision (``precision_score(..., zero_division=np.nan)``)."""
    return BinaryCounts(y_pos, pred_pos).precision(W)


def recall(y_pos: ArrayLike, pred_pos: ArrayLike, W: ArrayLike) -> FloatArray:
    """Resampled recall (``recall_score(..., zero_division=np.nan)``)."""
    return BinaryCounts(y_pos, pred_pos).recall(W)


def fbeta(y_pos: ArrayLike, pred_pos: ArrayLike, W: ArrayLike, beta: float = 1.0) -> FloatArray:
    """Resampled F-beta (``fbeta_score(..., zero_division=np.nan)``)."""
    return BinaryCounts(y_pos, pred_pos).fbeta(W, beta)


class MulticlassCounts:
    """Resampled per-class counts for ``K`` classes (labels ``0..K-1``).

    ``pred`` values outside ``range(K)`` (conventionally ``-1`` for an invalid /
    unparseable output) count as wrong for every class: a false negative of the
    true class and no false positive, exactly as
    ``f1_score(labels=range(K))`` treats a label outside ``labels``.
    """

    def __init__(self, y: ArrayLike, pred: ArrayLike, n_classes: int) -> None:
        yy = np.asarray(y)
        pp = np.asarray(pred)
        if yy.ndim != 1 or pp.ndim != 1:
            raise ValueError("y and pred must be 1-D")
        if n_classes < 1:
            raise ValueError("n_classes must be >= 1")
        self.n = same_length(y=yy, pred=pp)
        self.n_classes = k = int(n_classes)
        if yy.size and (yy.min() < 0 or yy.max() >= k):
            raise ValueError(f"y must hold class indices in [0, {k})")
        yy = yy.astype(np.int64)
        pp = pp.astype(np.int64)
        rows = np.arange(self.n)
        hit = (yy == pp).astype(np.float64)
        valid = (pp >= 0) & (pp < k)
        # columns: [tp_0..tp_{K-1} | predicted_0.. | true_0..]
        r = np.concatenate([rows, rows[valid], rows])
        c = np.concatenate([yy, k + pp[valid], 2 * k + yy])
        v = np.concatenate([hit, np.ones(int(valid.sum())), np.ones(self.n)])
        self._dense = 3 * k <= _DENSE_MAX_COLUMNS
        self._design: Any
        if self._dense:  # each row has one entry per block of columns: set, not summed (no scipy.sparse import)
            self._design = np.zeros((self.n, 3 * k))
            self._design[r, c] = v
        else:
            import scipy.sparse as sp  # here: importing harness (the CLI) stays light

            self._design_t = sp.csr_matrix((v, (r, c)), shape=(self.n, 3 * k)).T.tocsr()

    def counts(self, W: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return ``(tp, predicted, true)``, each of shape ``(b, K)``."""
        w = as_weights(W, self.n)
        s = w @ self._design if self._dense else np.asarray(self._design_t @ w.T).T
        k = self.n_classes
        return s[:, :k], s[:, k : 2 * k], s[:, 2 * k :]

    def f1_per_class(self, W: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Return per-class F1 ``2tp/(pred + true)`` (NaN if the class has neither examples nor
        predictions) and supports."""
        tp, pred, true = self.counts(W)
        return nan_div(2.0 * tp, pred + true), true

    def f1_macro(self, W: ArrayLike) -> FloatArray:
        tp, pred, true = self.counts(W)
        return average_f1(tp, pred, true, "macro")

    def f1_weighted(self, W: ArrayLike) -> FloatArray:
        tp, pred, true = self.counts(W)
        return average_f1(tp, pred, true, "weighted")


def average_f1(tp: FloatArray, pred: FloatArray, true: FloatArray, average: str) -> FloatArray:
    """Macro or support-weighted mean of the per-class F1 (rows = resamples, columns = classes).

    A class with neither examples nor predictions has no F1 (0/0) and is left out of the mean, as
    scikit-learn's ``zero_division=np.nan`` does; NaN when no class has one."""
    f1 = nan_div(2.0 * tp, pred + true)
    defined = ~np.isnan(f1)
    if average == "macro":
        return nan_div(np.where(defined, f1, 0.0).sum(axis=1), defined.sum(axis=1).astype(np.float64))
    return nan_div(np.where(defined, f1 * true, 0.0).sum(axis=1), true.sum(axis=1))


def f1_macro(y: ArrayLike, pred: ArrayLike, n_classes: int, W: ArrayLike) -> FloatArray:
    """``f1_score(y, pred, labels=range(K), average="macro", zero_division=np.nan)``."""
    return MulticlassCounts(y, pred, n_classes).f1_macro(W)


def f1_weighted(y: ArrayLike, pred: ArrayLike, n_classes: int, W: ArrayLike) -> FloatArray:
    """``f1_score(y, pred, labels=range(K), average="weighted", zero_division=np.nan)``."""
    return MulticlassCounts(y, pred, n_classes).f1_weighted(W)
