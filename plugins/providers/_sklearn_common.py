"""Helpers shared by providers that wrap a scikit-learn classifier with ``predict_proba``."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from harness.examples import Example, Prediction


def predictions_from_proba(examples: Sequence[Example], classes: Sequence[str], proba: np.ndarray,
                           labels: Sequence[str]) -> list[Prediction]:
    """Map a classifier's ``predict_proba`` columns onto the suite's label order; predicted label = argmax."""
    col = {c: i for i, c in enumerate(classes)}
    out = []
    for ex, row in zip(examples, proba):
        probs = {lab: float(row[col[lab]]) if lab in col else 0.0 for lab in labels}
        best = max(labels, key=lambda lab: probs[lab])
        out.append(Prediction(example_id=ex.id, label=best, probs=probs))
    return out


def input_texts(examples: Sequence[Example], field: str) -> list[Any]:
    return [ex.prompt if field == "prompt" else ex.text for ex in examples]
