"""Helpers shared by the local providers: class-probability mapping, input texts, model-file paths."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import InputError
from harness.examples import Example, Prediction
from harness.providers import ModelSpec


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


def model_file(spec: ModelSpec, suite: Any, what: str) -> Path:
    """The file a spec's argument names: as given, else relative to the suite folder (paths in suite.yaml)."""
    p = Path(spec.argument).expanduser()
    if not p.is_absolute() and not p.exists() and suite is not None and (suite.root / p).exists():
        p = suite.root / p
    if not p.is_file():
        raise InputError(f"{what} not found", file=p, field=f"models.{spec.name}")
    return p


def input_texts(examples: Sequence[Example], field: str) -> list[Any]:
    return [ex.prompt if field == "prompt" else ex.text for ex in examples]
