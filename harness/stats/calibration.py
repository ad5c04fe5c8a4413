"""Calibration bins and the expected calibration error of one model (numpy only, cheap to import).

Shared by the ``ece`` metric plugin, its vectorised bootstrap (:mod:`harness.stats.weighted`) and the
report's reliability diagrams, so the three can never bin a confidence differently.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_bool_1d, as_float_1d, same_length

__all__ = ["calibration_bins", "expected_calibration_error"]


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
