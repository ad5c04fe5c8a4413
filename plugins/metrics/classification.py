"""Label metrics: accuracy, precision/recall/F-beta for the positive class, macro and weighted F1.

Which examples count as predicted positive:

* binary tasks follow OpenAI's old ``compute_classification_metrics`` columns: the positive class is
  predicted when its probability is > 0.5, and the predicted label is used where a model gives no
  probabilities. This agrees with the predicted label (which the confusion matrix and the per-class table
  use) whenever the label is the argmax of the probabilities, except at exactly p = 0.5;
* multiclass tasks (one-vs-rest for the suite's ``positive`` class) use the predicted label, so the
  positive class's precision and recall are the per-class table's numbers for that class.

A ratio with a zero denominator is undefined, not 0: precision with no predicted positive, recall with no
positive example, F-beta with neither raise NotAvailable with the reason; macro F1 leaves out a class with
neither examples nor predictions (scikit-learn's ``zero_division=np.nan``).
"""

from __future__ import annotations

import numpy as np

from harness import (
    hookimpl,
    stats,  # its scipy-based tests load on first use
)
from harness.metrics import Metric, MetricData, NotAvailable, OptionError
from harness.stats import scores
from harness.stats.weighted import Linear


def positive_index(data: MetricData) -> int:
    if data.positive is None:
        raise NotAvailable("needs a positive class (set `positive:` in the suite)")
    return data.positive


def predicted_positive(data: MetricData) -> np.ndarray:
    """Binary: positive where p(positive) > 0.5, the predicted label where there are no probabilities.
    Multiclass: the predicted label (see the module docstring)."""
    pos = positive_index(data)
    pred = data.y_pred == pos
    if data.proba is not None and data.is_binary:
        has = data.has_proba()
        pred = np.where(has, np.nan_to_num(data.proba[:, pos]) > 0.5, pred)
    return pred.astype(bool)


def _check_defined(name: str, y: np.ndarray, pred: np.ndarray) -> None:
    if name == "precision" and not pred.any():
        raise NotAvailable("no example is predicted positive (precision is 0/0)")
    if name == "recall" and not y.any():
        raise NotAvailable("no positive example among the held-out labels (recall is 0/0)")
    if name == "fbeta" and not (pred.any() or y.any()):
        raise NotAvailable("no positive example and no positive prediction (F-beta is 0/0)")


class Accuracy(Metric):
    name = "accuracy"
    family = "accuracy"
    proportion = True
    title = "Accuracy"
    description = ("Share of examples whose predicted label is the gold label; invalid outputs and failed "
                   "requests count as wrong (OpenAI: classification/accuracy).")

    def compute(self, data: MetricData) -> float:
        return scores.accuracy(data.y_true, data.y_pred)

    def resampler(self, data: MetricData):
        return Linear.mean(data.y_pred == data.y_true)

    def interval(self, data: MetricData, alpha: float):
        return stats.wilson_interval(int((data.y_pred == data.y_true).sum()), data.n, alpha)

    def paired_test(self, a: MetricData, b: MetricData, alpha: float):
        return stats.paired_accuracy_test(a.y_pred == a.y_true, b.y_pred == b.y_true, alpha)


class _PositiveClass(Metric):
    proportion = True
    family = "accuracy"

    def compute(self, data: MetricData) -> float:
        pos = positive_index(data)
        y = data.y_true == pos
        pred = predicted_positive(data)
        _check_defined(self.name, y, pred)
        return float(self.score(y, pred, data))

    def score(self, y: np.ndarray, pred: np.ndarray, data: MetricData) -> float:
        raise NotImplementedError

    def check_options(self, options) -> None:
        beta = options.get("beta", 1.0)
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0 <= beta < float("inf"):
            raise OptionError("beta", f"F-beta's beta must be a number >= 0, got {beta!r}")

    def resampler(self, data: MetricData):
        return Linear.binary(data.y_true == positive_index(data), predicted_positive(data), self.name,
                             float(data.options.get("beta", 1.0)))


class Precision(_PositiveClass):
    name = "precision"
    title = "Precision"
    description = ("Precision for the positive class: binary at p > 0.5, multiclass from the predicted label "
                   "(OpenAI: classification/precision).")

    def score(self, y: np.ndarray, pred: np.ndarray, data: MetricData) -> float:
        tp, predicted, _ = scores.binary_counts(y, pred)
        return tp / predicted


class Recall(_PositiveClass):
    name = "recall"
    title = "Recall"
    description = ("Recall for the positive class: binary at p > 0.5, multiclass from the predicted label "
                   "(OpenAI: classification/recall).")

    def score(self, y: np.ndarray, pred: np.ndarray, data: MetricData) -> float:
        tp, _, actual = scores.binary_counts(y, pred)
        return tp / actual


class FBeta(_PositiveClass):
    name = "fbeta"
    title = "F1"
    description = ("F-beta for the positive class (binary at p > 0.5, multiclass from the predicted label); "
                   "beta from metric_options.beta, default 1 (OpenAI: classification/f1.0).")

    def score(self, y: np.ndarray, pred: np.ndarray, data: MetricData) -> float:
        return scores.fbeta(*scores.binary_counts(y, pred), float(data.options.get("beta", 1.0)))


class _AveragedF1(Metric):
    family = "accuracy"
    proportion = True
    average = "macro"

    def compute(self, data: MetricData) -> float:
        value = scores.f1_average(data.y_true, data.y_pred, data.n_classes, self.average)
        if not np.isfinite(value):
            raise NotAvailable("no class has examples or predictions")
        return value

    def resampler(self, data: MetricData):
        return Linear.f1(data.y_true, data.y_pred, data.n_classes, self.average)


class MacroF1(_AveragedF1):
    name = "f1_macro"
    title = "Macro F1"
    description = ("Unweighted mean of per-class F1 over the label set (a class with neither examples nor "
                   "predictions has no F1 and is left out); invalid outputs count as wrong.")
    average = "macro"


class WeightedF1(_AveragedF1):
    name = "f1_weighted"
    title = "Weighted F1"
    description = ("Per-class F1 weighted by each class's share of the held-out set "
                   "(OpenAI multiclass: weighted_f1_score).")
    average = "weighted"


METRICS = (Accuracy(), Precision(), Recall(), FBeta(), MacroF1(), WeightedF1())


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)
