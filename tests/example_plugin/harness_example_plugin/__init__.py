"""An example third-party harness plugin: registers a ``balanced_accuracy`` metric."""

from __future__ import annotations

import harness
from harness.metrics import Metric, MetricData

__version__ = "0.3.1"


class BalancedAccuracy(Metric):
    name = "balanced_accuracy"
    title = "Balanced accuracy"
    description = "Mean per-class recall; invalid outputs count as wrong."

    def compute(self, data: MetricData) -> float:
        import numpy as np
        from sklearn.metrics import recall_score  # imported when used: loading the plugin stays cheap

        present = np.unique(data.y_true)
        return float(recall_score(data.y_true, data.y_pred, labels=present, average="macro"))


@harness.hookimpl
def register_metrics(register):
    register(BalancedAccuracy())
