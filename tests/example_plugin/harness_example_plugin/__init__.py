"""An example third-party harness plugin: registers a ``balanced_accuracy`` metric."""

from __future__ import annotations

from sklearn.metrics import balanced_accuracy_score

import harness
from harness.metrics import Metric, MetricData

__version__ = "0.3.1"


class BalancedAccuracy(Metric):
    name = "balanced_accuracy"
    title = "Balanced accuracy"
    description = "Mean per-class recall; invalid outputs count as wrong."

    def compute(self, data: MetricData) -> float:
        return float(balanced_accuracy_score(data.y_true, data.y_pred))


@harness.hookimpl
def register_metrics(register):
    register(BalancedAccuracy())
