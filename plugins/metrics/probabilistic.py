"""Probability metrics: AUROC, AUPRC (average precision), log loss, Brier score, expected calibration error.

Computed over the examples that have probabilities; a metric that is undefined on the data (one class
present, no probabilities at all) is reported as not available with the reason.
"""

from __future__ import annotations

import numpy as np

from harness import (
    hookimpl,
    stats,  # its scipy-based tests load on first use
)
from harness.metrics import Metric, MetricData, NotAvailable, OptionError
from harness.stats import scores
from harness.stats.calibration_inference import calibration_interval, paired_calibration_test
from harness.stats.weighted import DebiasedCalibration, Linear, Ranked, debiased_calibration_error

DEFAULT_ECE_BINS = 10


def with_proba(data: MetricData) -> tuple[np.ndarray, np.ndarray]:
    """(gold labels, probability rows) over the examples that have probabilities."""
    if data.proba is None:
        raise NotAvailable("the model gives no probabilities")
    has = data.has_proba()
    if not has.any():
        raise NotAvailable("the model gave no probabilities for any example")
    return data.y_true[has], data.proba[has]


def on_proba_rows(data: MetricData, fn):
    """Restrict a resampler to the rows that have probabilities (the rows the metric is computed on)."""
    has = data.has_proba()
    if has.all():
        return fn
    if isinstance(fn, Linear):
        return fn.embed(has)
    return lambda w: fn(w[:, has])


def _binary(data: MetricData) -> tuple[np.ndarray, np.ndarray]:
    """(is positive, p(positive)) over the rows with probabilities."""
    y, p = with_proba(data)
    pos = data.positive if data.positive is not None else 1
    return y == pos, p[:, pos]


def _missing_classes(y: np.ndarray, k: int) -> list[int]:
    present = set(np.unique(y).tolist())
    return [c for c in range(k) if c not in present]


class _RankMetric(Metric):
    """A ranking metric of p(class): the positive class for binary tasks, the macro mean over classes
    (one-vs-rest) for multiclass."""

    needs_proba = True
    family = "discrimination"
    proportion = True
    ranked: str = ""  # name of the harness.stats.weighted.Ranked method with the same definition

    def binary(self, y_pos: np.ndarray, scores_: np.ndarray) -> float:
        raise NotImplementedError

    def multiclass(self, y: np.ndarray, p: np.ndarray, n_classes: int) -> float:
        raise NotImplementedError

    def compute(self, data: MetricData) -> float:
        y, p = with_proba(data)
        if data.is_binary:
            yb, s = _binary(data)
            if yb.all() or not yb.any():  # AP of all-positive data is 1.0 whatever the scores: say nothing
                n = len(data.y_true)
                raise NotAvailable("only one class present in the held-out labels" if yb.size == n else
                                   f"only one class present among the {yb.size} of {n} held-out examples "
                                   "scored with probabilities")
            return float(self.binary(yb, s))
        missing = _missing_classes(y, data.n_classes)
        if missing:
            lab, n = data.labels[missing[0]], len(data.y_true)
            raise NotAvailable(f"class {lab!r} has no held-out examples" if len(y) == n else
                               f"class {lab!r} has no example among the {len(y)} of {n} held-out examples scored "
                               "with probabilities")
        return float(self.multiclass(y, p, data.n_classes))

    def resampler(self, data: MetricData):
        if data.is_binary:
            yb, s = _binary(data)
            return on_proba_rows(data, getattr(Ranked(yb, s), self.ranked))
        y, p = with_proba(data)
        fns = [getattr(Ranked(y == k, p[:, k]), self.ranked) for k in range(data.n_classes)]
        return on_proba_rows(data, lambda w: np.mean([fn(w) for fn in fns], axis=0))


class AUROC(_RankMetric):
    name = "auroc"
    title = "AUROC"
    description = ("Area under the ROC curve: positive class for binary tasks (OpenAI: classification/auroc); "
                   "one-vs-rest macro average for multiclass.")
    ranked = "auroc"

    def binary(self, y_pos: np.ndarray, scores_: np.ndarray) -> float:
        return scores.roc_auc(y_pos, scores_)

    def multiclass(self, y: np.ndarray, p: np.ndarray, n_classes: int) -> float:
        return scores.roc_auc_ovr_macro(y, p, n_classes)

    def interval(self, data: MetricData, alpha: float):
        if not data.is_binary:
            return None
        y, s = _binary(data)
        _delong_needs_two_each(y)
        return stats.delong_auc(y, s, alpha)

    def paired_test(self, a: MetricData, b: MetricData, alpha: float):
        if not a.is_binary or not (a.has_proba().all() and b.has_proba().all()):
            return None
        ya, sa = _binary(a)
        _delong_needs_two_each(ya)
        return stats.delong_test(ya, sa, _binary(b)[1], alpha)


def _delong_needs_two_each(y_pos: np.ndarray) -> None:
    """DeLong's variance needs two examples of each class; with one (a rare class, a few failed requests) the
    interval and test are not available — a bootstrap would only see the negatives vary."""
    pos = int(y_pos.sum())
    neg = int(y_pos.size - pos)
    if pos < 2 or neg < 2:
        raise NotAvailable(f"DeLong's variance needs at least 2 positive and 2 negative examples "
                           f"({pos} positive, {neg} negative among the {y_pos.size} scored)")


class AUPRC(_RankMetric):
    name = "auprc"
    title = "AUPRC"
    description = ("Average precision (area under the precision-recall curve): positive class for binary "
                   "tasks (OpenAI: classification/auprc); macro average over classes for multiclass.")
    ranked = "average_precision"

    def binary(self, y_pos: np.ndarray, scores_: np.ndarray) -> float:
        return scores.average_precision(y_pos, scores_)

    def multiclass(self, y: np.ndarray, p: np.ndarray, n_classes: int) -> float:
        return scores.average_precision_macro(y, p, n_classes)


class LogLoss(Metric):
    name = "log_loss"
    title = "Log loss"
    # probabilities clipped to [eps, 1 - eps] as scikit-learn does (README, Metrics): the description stays as
    # results.json and the report have always carried it (tests/test_same_results.py)
    description = "Cross-entropy of the predicted class probabilities (lower is better)."
    higher_is_better = False
    needs_proba = True
    family = "calibration"

    def compute(self, data: MetricData) -> float:
        y, p = with_proba(data)
        return scores.log_loss(y, p)

    def resampler(self, data: MetricData):
        y, p = with_proba(data)
        p_true = np.clip(p[np.arange(len(y)), y] / p.sum(axis=1), np.finfo(float).eps, 1 - np.finfo(float).eps)
        return on_proba_rows(data, Linear.mean(-np.log(p_true)))


class Brier(Metric):
    name = "brier"
    title = "Brier score"
    description = ("Mean squared error of the probabilities: of the positive class for binary tasks, summed "
                   "over classes for multiclass (lower is better).")
    higher_is_better = False
    needs_proba = True
    family = "calibration"

    def compute(self, data: MetricData) -> float:
        y, p = with_proba(data)
        if data.is_binary:
            pos = data.positive if data.positive is not None else 1
            return scores.brier_binary(y == pos, p[:, pos])
        return scores.brier_multiclass(y, p, data.n_classes)

    def resampler(self, data: MetricData):
        if data.is_binary:
            yb, s = _binary(data)
            return on_proba_rows(data, Linear.mean((yb.astype(float) - s) ** 2))
        y, p = with_proba(data)
        onehot = np.eye(data.n_classes)[y]
        return on_proba_rows(data, Linear.mean(((p - onehot) ** 2).sum(axis=1)))


def calibration_error(confidence: np.ndarray, correct: np.ndarray, n_bins: int) -> float:
    """The ``ece`` metric's value from top-label confidences and correctness (see :class:`ECE`)."""
    return debiased_calibration_error(np.clip(confidence, 0.0, 1.0), np.asarray(correct).astype(bool), n_bins)


def top_label(data: MetricData) -> tuple[np.ndarray, np.ndarray, int]:
    """(top-label confidence, whether the top label is right, bins) over the rows with probabilities."""
    y, p = with_proba(data)
    bins = int(data.options.get("ece_bins", DEFAULT_ECE_BINS))
    return np.clip(p.max(axis=1), 0.0, 1.0), p.argmax(axis=1) == y, bins


class ECE(Metric):
    """Debiased binned calibration error (:func:`harness.stats.calibration.debiased_calibration_error`):
    the root-mean-square gap between accuracy and confidence over equal-width bins of the top-label
    confidence, with each bin's sampling noise subtracted — about 0 for a calibrated model (it can dip
    slightly below 0), unbiased where the plug-in ECE is biased upward. Its interval (a score interval) and
    paired test (a z-test with the jackknife variance less its degenerate part) are in closed form:
    :mod:`harness.stats.calibration_inference`."""

    name = "ece"
    title = "ECE"
    description = ("Calibration error of the top-label confidence: debiased root-mean-square gap between "
                   "accuracy and confidence over equal-width bins (metric_options.ece_bins, default 10); "
                   "about 0 when calibrated, may dip slightly below 0; lower is better.")
    higher_is_better = False
    needs_proba = True
    family = "calibration"

    def check_options(self, options) -> None:
        bins = options.get("ece_bins", DEFAULT_ECE_BINS)
        if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= 10_000:
            raise OptionError("ece_bins", f"the number of calibration bins must be a whole number from 1 to 10000, "
                              f"got {bins!r}")

    def compute(self, data: MetricData) -> float:
        confidence, correct, bins = top_label(data)
        return calibration_error(confidence, correct, bins)

    def resampler(self, data: MetricData):
        # used where every model's statistic must come from one bootstrap (the best-set selection); the
        # interval and the paired test below are in closed form
        confidence, correct, bins = top_label(data)
        return on_proba_rows(data, DebiasedCalibration(confidence, correct, bins))

    def interval(self, data: MetricData, alpha: float):
        confidence, correct, bins = top_label(data)
        if confidence.size < 3:
            raise NotAvailable(f"an interval needs at least 3 examples with probabilities ({confidence.size})")
        return calibration_interval(confidence, correct, bins, alpha)

    def paired_test(self, a: MetricData, b: MetricData, alpha: float):
        ca, ka, bins = top_label(a)
        cb, kb, _ = top_label(b)
        if ca.size < 3:
            raise NotAvailable(f"a test needs at least 3 examples with probabilities ({ca.size})")
        try:
            return paired_calibration_test(ca, ka, cb, kb, bins, alpha)
        except ValueError as exc:
            raise NotAvailable(str(exc)) from None


METRICS = (AUROC(), AUPRC(), LogLoss(), Brier(), ECE())


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)
