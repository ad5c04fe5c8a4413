"""Metrics of many bootstrap resamples at once, from count matrices (one import for all of them).

A resample is a row of counts ``w`` (how often each example was drawn, see :mod:`harness.stats.resample`);
a chunk of ``b`` resamples is a ``(b, n)`` matrix ``W``. Every statistic maps ``W`` to a ``(b,)`` array
without a Python loop over resamples, and equals the scikit-learn metric applied to the explicitly resampled
data (``np.repeat(np.arange(n), w)``) to floating-point accuracy — NaN where the metric is undefined on that
resample (no predicted positive for precision, one class for AUROC...), never a made-up 0.

The implementations live in:

* :mod:`.linear` — :class:`Linear` statistics ``finish(W @ design)``, :func:`fuse_linear`, means (accuracy,
  log loss, Brier);
* :mod:`.counts` — confusion counts: precision, recall, F-beta, macro / weighted F1;
* :mod:`.ranked` — :class:`Ranked`: AUROC and average precision from one sort;
* :mod:`.calibration` and :mod:`.calibration_boot` — calibration errors and their bootstrap.

A chunk over *cells* of identical examples (weights = cell counts, see :mod:`harness.stats.cells`) works
the same way.
"""

from __future__ import annotations

from .calibration import (
    calibration_bins,
    debiased_calibration_error,
    expected_calibration_error,
    squared_calibration_error,
)
from .calibration_boot import Calibration, DebiasedCalibration, ece
from .counts import (
    BinaryCounts,
    MulticlassCounts,
    average_f1,
    f1_macro,
    f1_weighted,
    fbeta,
    precision,
    recall,
)
from .linear import LOG_LOSS_CLIP, Linear, Mean, accuracy, brier, fuse_linear, log_loss, log_loss_terms
from .ranked import Ranked

__all__ = [
    "LOG_LOSS_CLIP",
    "BinaryCounts",
    "Calibration",
    "DebiasedCalibration",
    "Linear",
    "Mean",
    "MulticlassCounts",
    "Ranked",
    "accuracy",
    "average_f1",
    "brier",
    "calibration_bins",
    "debiased_calibration_error",
    "ece",
    "expected_calibration_error",
    "f1_macro",
    "f1_weighted",
    "fbeta",
    "fuse_linear",
    "log_loss",
    "log_loss_terms",
    "precision",
    "recall",
    "squared_calibration_error",
]
