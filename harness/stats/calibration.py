"""Calibration bins and calibration errors of one model (numpy only, cheap to import).

Shared by the ``ece`` metric plugin, its interval and paired test (:mod:`harness.stats.calibration_inference`),
its bootstrap (:mod:`harness.stats.calibration_boot`) and the report's reliability diagrams, so they can never
bin a confidence differently.

Two estimators:

* :func:`expected_calibration_error` — the classic plug-in binned ECE (Naeini et al. 2015; Guo et al.
  2017). It is biased upward: a perfectly calibrated model scores about ``sqrt(2/pi)·sd/sqrt(n_j)`` per bin,
  so its confidence interval never covers 0.
* :func:`debiased_calibration_error` — what the ``ece`` metric reports: the binned root-mean-square
  calibration error with the sampling noise of each bin's mean gap subtracted (the debiased squared
  estimator of Kumar, Liang & Ma 2019, "Verified uncertainty calibration", section 5)::

      T   = sum_j (n_j / n) · (gbar_j^2 - s_j^2 / n_j)        (bins with n_j >= 2)
      ECE = sign(T) · sqrt(|T|)

  where ``gbar_j`` and ``s_j^2`` are the mean and sample variance (``n_j - 1``) of ``correct - confidence``
  in bin ``j``. ``gbar_j^2 - s_j^2/n_j`` is an unbiased estimate of the squared mean gap ``mu_j^2``, so
  ``T`` is unbiased for ``sum_j P(B_j)·mu_j^2`` (given the bin counts): about 0 for a calibrated model,
  which can then come out slightly negative (less spread than chance alone would give).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_bool_1d, as_float_1d, same_length

__all__ = ["calibration_bins", "debiased_calibration_error", "expected_calibration_error",
           "gaps_by_bin", "signed_sqrt", "squared_calibration_error"]


def calibration_bins(confidence: ArrayLike, n_bins: int = 10) -> NDArray[np.intp]:
    """Bin index in ``0..n_bins-1`` of each confidence (equal width on [0, 1]).

    Bin ``j`` holds the confidences in ``(j/M, (j+1)/M]`` (``M = n_bins``, edges
    ``j/M`` as correctly rounded doubles, so e.g. 0.3 lies in ``(0.2, 0.3]``);
    bin 0 also holds 0.  Confidences must lie in [0, 1].
    """
    c = as_float_1d(confidence, "confidence")
    if n_bins < 1:
        raise ValueError("n_bins must be >= 1")
    if (c < 0).any() or (c > 1).any():
        raise ValueError("confidence must lie in [0, 1]")
    inner = np.arange(1, n_bins) / n_bins
    return np.searchsorted(inner, c, side="left")


def expected_calibration_error(
    confidence: ArrayLike, correct: ArrayLike, n_bins: int = 10
) -> float:
    """Expected calibration error of a single model (no resampling).

    ``confidence`` is the probability the model gave to its predicted label
    (top-label confidence) and ``correct`` whether that label was right.  With
    ``M = n_bins`` equal-width bins on [0, 1] (right-closed, first bin
    ``[0, 1/M]``, see :func:`calibration_bins`)::

        ECE = sum_j (n_j / n) · |acc_j - conf_j|
            = sum_j |sum_{i in B_j} (correct_i - confidence_i)| / n

    where ``acc_j`` / ``conf_j`` are the mean correctness / confidence in bin ``j``
    and empty bins contribute 0 (Naeini, Cooper & Hauskrecht 2015; Guo et al.
    2017).  Lies in [0, 1]; 0 means perfectly calibrated at this binning.
    """
    c = as_float_1d(confidence, "confidence")
    ok = as_bool_1d(correct, "correct")
    n = same_length(confidence=c, correct=ok)
    if n == 0:
        raise ValueError("need at least one example")
    bins = calibration_bins(c, n_bins)
    gap = np.bincount(bins, weights=ok - c, minlength=n_bins)
    return float(np.abs(gap).sum() / n)


def gaps_by_bin(confidence: ArrayLike, correct: ArrayLike, n_bins: int = 10
                ) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """(bin of each example, gap ``correct - confidence`` of each example)."""
    c = as_float_1d(confidence, "confidence")
    ok = as_bool_1d(correct, "correct")
    same_length(confidence=c, correct=ok)
    return calibration_bins(c, n_bins), ok - c


def _bin_moments(bins: NDArray[np.intp], gaps: NDArray[np.float64], n_bins: int
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    counts = np.bincount(bins, minlength=n_bins).astype(np.float64)
    s1 = np.bincount(bins, weights=gaps, minlength=n_bins)
    s2 = np.bincount(bins, weights=gaps * gaps, minlength=n_bins)
    return counts, s1, s2


def squared_calibration_error(confidence: ArrayLike, correct: ArrayLike, n_bins: int = 10) -> float:
    """The debiased squared calibration error ``T`` (see the module docstring); may be slightly < 0."""
    bins, gaps = gaps_by_bin(confidence, correct, n_bins)
    n = gaps.size
    if n == 0:
        raise ValueError("need at least one example")
    counts, s1, s2 = _bin_moments(bins, gaps, n_bins)
    ok = counts >= 2
    c = np.where(ok, counts, 2.0)
    mean = s1 / c
    var = np.maximum(s2 - c * mean * mean, 0.0) / (c - 1.0)
    return float(np.sum(np.where(ok, counts / n * (mean * mean - var / c), 0.0)))


def signed_sqrt(x: ArrayLike) -> NDArray[np.float64]:
    """``sign(x)·sqrt(|x|)``: the root scale of a squared error that may be estimated below 0."""
    a = np.asarray(x, dtype=np.float64)
    return np.sign(a) * np.sqrt(np.abs(a))


def debiased_calibration_error(confidence: ArrayLike, correct: ArrayLike, n_bins: int = 10) -> float:
    """The ``ece`` metric: debiased binned root-mean-square calibration error (module docstring)."""
    return float(signed_sqrt(squared_calibration_error(confidence, correct, n_bins)))
