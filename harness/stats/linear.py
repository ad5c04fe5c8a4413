"""Linear bootstrap statistics: ``finish(W @ design)`` for a chunk ``W`` of resample counts.

A resample is a row of counts ``w`` (how often each example was drawn, see :mod:`harness.stats.resample`);
a chunk of ``b`` resamples is a ``(b, n)`` matrix ``W``. Sums of per-example terms become one BLAS product
``W @ D`` with a small design matrix ``D``, followed by a cheap element-wise formula. :func:`fuse_linear`
evaluates many such statistics with a single product per chunk.

``W`` holds non-negative integer counts (any numeric dtype). Products of integer counts with a 0/1 design
are exact; with a real-valued design the sum's rounding depends on the BLAS kernel and the chunk's shape
(differences of ~1e-16, never more), so results agree across chunkings to rounding, not bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_bool_1d, as_float_1d, as_weights, nan_div

FloatArray = NDArray[np.float64]

__all__ = ["LOG_LOSS_CLIP", "Linear", "Mean", "accuracy", "as_weights", "brier", "fuse_linear", "log_loss",
           "log_loss_terms", "nan_div"]

LOG_LOSS_CLIP = 1e-15
"""Probabilities are clipped to ``[LOG_LOSS_CLIP, 1]`` before taking logs."""


class Linear:
    """A chunk statistic of the form ``finish(W @ design)``.

    Many metrics only need a small linear summary of each resample (weighted counts or sums) followed by a
    cheap element-wise formula. Expressed this way, a caller that evaluates many statistics on the same
    chunks can stack their designs and read each chunk once (:func:`fuse_linear`). Called on its own it
    behaves like any other chunk statistic.
    """

    def __init__(self, design: ArrayLike, finish: Callable[[FloatArray], FloatArray]) -> None:
        d = np.asarray(design, dtype=np.float64)
        if d.ndim != 2:
            raise ValueError("design must be 2-D (n, k)")
        self.design = d
        self.finish = finish
        self.n = d.shape[0]

    def __call__(self, W: ArrayLike) -> FloatArray:
        return np.asarray(self.finish(as_weights(W, self.n) @ self.design), dtype=np.float64)

    def embed(self, rows: ArrayLike) -> Linear:
        """The same statistic over a larger set of examples of which only ``rows`` (a boolean mask) take
        part: the other examples get zero design rows, so they never count."""
        mask = np.asarray(rows, dtype=bool)
        if int(mask.sum()) != self.n:
            raise ValueError("the mask must select exactly as many rows as the design has")
        full = np.zeros((mask.size, self.design.shape[1]))
        full[mask] = self.design
        out = Linear(full, self.finish)
        if hasattr(self, "method"):
            out.method = self.method  # type: ignore[attr-defined]
        return out

    @classmethod
    def mean(cls, values: ArrayLike) -> Linear:
        """Weighted mean of per-example values (:class:`Mean`)."""
        return Mean(values)

    @classmethod
    def binary(cls, y_pos: ArrayLike, pred_pos: ArrayLike, metric: str, beta: float = 1.0) -> Linear:
        """``precision``, ``recall`` or ``fbeta`` of the positive class; NaN where undefined (no predicted
        positive, no positive example, neither)."""
        from .counts import BinaryCounts, fbeta_from_counts

        design = BinaryCounts(y_pos, pred_pos)._design
        finishes: dict[str, Callable[[FloatArray], FloatArray]] = {
            "precision": lambda s: nan_div(s[:, 0], s[:, 1]),
            "recall": lambda s: nan_div(s[:, 0], s[:, 2]),
            "fbeta": lambda s: fbeta_from_counts(s[:, 0], s[:, 1], s[:, 2], beta),
        }
        return cls(design, finishes[metric])

    @classmethod
    def f1(cls, y: ArrayLike, pred: ArrayLike, n_classes: int, average: str) -> Linear:
        """Macro or weighted F1 over ``n_classes`` labels (``pred`` -1 = invalid, wrong for every class); a
        class with neither examples nor predictions has no F1 and is left out of the average (see
        :func:`~harness.stats.counts.average_f1`)."""
        from .counts import MulticlassCounts, average_f1

        counts = MulticlassCounts(y, pred, n_classes)
        design = counts._design if counts._dense else counts._design_t.T.toarray()
        k = int(n_classes)

        def finish(s: FloatArray) -> FloatArray:
            return average_f1(s[:, :k], s[:, k:2 * k], s[:, 2 * k:], average)
        return cls(design, finish)


def fuse_linear(stats: dict[str, Linear]) -> dict[str, Callable[[ArrayLike], FloatArray]]:
    """Chunk statistics equal to ``stats`` that share ONE product ``W @ [D_1 D_2 ...]`` per chunk: when
    several metrics of several models are bootstrapped on the same chunks, each chunk is read once.

    The product of the most recent chunk is cached by object identity (chunks handed out by
    :func:`~harness.stats.bootstrap.bootstrap_draws` are distinct objects)."""
    if not stats:
        return {}
    names = list(stats)
    stacked = np.hstack([stats[k].design for k in names])
    n = stacked.shape[0]
    # identical columns (a shared ones column, the same labels for several metrics) are multiplied once
    index: dict[bytes, int] = {}
    source = np.array([index.setdefault(np.ascontiguousarray(stacked[:, j]).tobytes(), len(index))
                       for j in range(stacked.shape[1])], dtype=np.intp)
    firsts = [int(np.flatnonzero(source == u)[0]) for u in range(len(index))]
    design = np.ascontiguousarray(stacked[:, firsts])
    bounds = np.cumsum([0] + [stats[k].design.shape[1] for k in names])
    last: list[object] = [None, None]

    def product(W: ArrayLike) -> FloatArray:
        if last[0] is not W:
            last[0], last[1] = W, as_weights(W, n) @ design
        return last[1]  # type: ignore[return-value]

    def make(i: int) -> Callable[[ArrayLike], FloatArray]:
        cols, finish = source[int(bounds[i]):int(bounds[i + 1])], stats[names[i]].finish
        return lambda W: np.asarray(finish(product(W)[:, cols]), dtype=np.float64)

    return {name: make(i) for i, name in enumerate(names)}




class Mean(Linear):
    """Weighted mean of per-example values: ``(W @ v) / (W @ 1)``."""

    def __init__(self, values: ArrayLike) -> None:
        v = as_float_1d(values, "values")
        super().__init__(np.column_stack([v, np.ones_like(v)]), lambda s: nan_div(s[:, 0], s[:, 1]))


def accuracy(correct: ArrayLike, W: ArrayLike) -> FloatArray:
    """Resampled accuracy (``sklearn.metrics.accuracy_score``)."""
    return Mean(as_bool_1d(correct, "correct"))(W)


def log_loss_terms(p_true: ArrayLike) -> FloatArray:
    """Per-example log loss ``-log(clip(p_true, 1e-15, 1))``."""
    p = as_float_1d(p_true, "p_true")
    if (p < 0).any() or (p > 1).any():
        raise ValueError("p_true must be probabilities in [0, 1]")
    return -np.log(np.clip(p, LOG_LOSS_CLIP, 1.0))


def log_loss(p_true: ArrayLike, W: ArrayLike) -> FloatArray:
    """Resampled mean log loss; ``p_true`` = probability given to the true class.

    The probability is clipped to ``[1e-15, 1]``, so a confident mistake costs at
    most ``-log(1e-15) ≈ 34.5``.  This matches ``sklearn.metrics.log_loss`` on full
    probability rows whenever ``p_true >= 1e-15`` (scikit-learn >= 1.5 clips to
    ``[eps, 1 - eps]`` with the float64 machine eps instead, which differs by at
    most ~2.2e-16 per example above that bound).
    """
    return Mean(log_loss_terms(p_true))(W)


def brier(sq_err: ArrayLike, W: ArrayLike) -> FloatArray:
    """Resampled mean of caller-supplied squared-error terms.

    For a binary model pass ``(y - p_pos)**2`` to obtain
    ``sklearn.metrics.brier_score_loss``; for multiclass pass the per-row sum of
    squared errors over classes (optionally halved).
    """
    return Mean(as_float_1d(sq_err, "sq_err"))(W)
