"""A model's predictions on one split, in the order of the split's examples, and what a run derives from them:
the metric data, the counts, the failure reasons, the predictions.jsonl lines.

A provider returns a list of :class:`~harness.examples.Prediction` objects or
:class:`~harness.examples.PredictionColumns`. Columns in the examples' order are used as they are — a million
predictions never become a million objects — and everything else is aligned by example id, as before; both give
the same numbers and the same bytes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..examples import FAILED, INVALID, OK, Example, Prediction, PredictionColumns
from ..metrics import MetricData
from ..output.columns import column_lines
from ..output.results import row_json
from ..suite import Suite

Preds = Sequence[Prediction]  # a list of Prediction objects, or PredictionColumns
MISSING = "the model returned no prediction for this example"


def split(predictions: Preds, examples: Sequence[Example], start: int = 0) -> Preds:
    """The predictions for ``examples``, which start at ``start`` in the list the model scored; an example the
    model skipped counts as failed."""
    if isinstance(predictions, PredictionColumns):
        stop = start + len(examples)
        if len(predictions) >= stop and list(predictions.ids[start:stop]) == [ex.id for ex in examples]:
            return predictions.rows(start, stop)
    by_id: dict[str, Prediction] = {}
    for p in predictions:
        by_id[p.example_id] = p
    return [by_id.get(ex.id) or Prediction.failed(ex.id, MISSING) for ex in examples]


def gold_index(suite: Suite, examples: Sequence[Example]) -> np.ndarray:
    index = {lab: i for i, lab in enumerate(suite.labels)}
    return np.array([index[ex.label] for ex in examples], dtype=np.int64)


def metric_data(suite: Suite, examples: Sequence[Example], preds: Preds, options: dict[str, Any],
                y_true: np.ndarray | None = None) -> MetricData:
    """The arrays metrics are computed from (``y_true``: the examples' gold label indices, when known)."""
    index = {lab: i for i, lab in enumerate(suite.labels)}
    y_true = gold_index(suite, examples) if y_true is None else y_true
    positive = index[suite.positive] if suite.positive is not None else None
    if isinstance(preds, PredictionColumns) and preds.labels == tuple(suite.labels):
        has = preds.has_probs()
        proba = preds.probs if preds.probs is not None and has.any() else None
        return MetricData(suite.labels, y_true, preds.label.astype(np.int64), proba, positive, options)
    y_pred = np.array([index.get(p.label, -1) if p.label is not None else -1 for p in preds], dtype=np.int64)
    proba = None
    if any(p.probs is not None for p in preds):
        proba = np.full((len(preds), len(suite.labels)), np.nan)
        for i, p in enumerate(preds):
            if p.probs is not None:
                proba[i] = [float(p.probs.get(lab, 0.0)) for lab in suite.labels]
    return MetricData(suite.labels, y_true, y_pred, proba, positive, options)


def counts(preds: Preds) -> dict[str, int]:
    if isinstance(preds, PredictionColumns):
        c = np.bincount(preds.statuses(), minlength=3)
        return {"n": len(preds), "ok": int(c[0]), "invalid": int(c[1]), "failed": int(c[2]),
                "flagged": sum(1 for f in preds.flags.values() if f)}
    statuses = [p.status for p in preds]
    return {"n": len(preds), "ok": statuses.count(OK), "invalid": statuses.count(INVALID),
            "failed": statuses.count(FAILED), "flagged": sum(1 for p in preds if p.flags)}


def failure_reasons(preds: Preds) -> dict[str, int]:
    """Why examples failed: reason → count, most frequent first (results.json ``models[i].failures``)."""
    found: Counter[str] = Counter()
    if isinstance(preds, PredictionColumns):
        codes = np.bincount(preds.error[preds.error >= 0], minlength=len(preds.error_values))
        for code, n in enumerate(codes.tolist()):
            if n:
                found[preds.error_values[code]] += n
    else:
        for p in preds:
            if p.error is not None:
                found[p.error] += 1
    return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


def all_failed(preds: Preds) -> bool:
    if isinstance(preds, PredictionColumns):
        return bool((preds.error >= 0).all())
    return all(p.status == FAILED for p in preds)


def prediction_rows(model: str, examples: Sequence[Example], preds: Sequence[Prediction]) -> list[dict[str, Any]]:
    rows = []
    for ex, p in zip(examples, preds):
        row: dict[str, Any] = {"model": model, "id": ex.id, "gold": ex.label, "pred": p.label,
                               "status": p.status, "probs": p.probs}
        if p.output is not None:
            row["output"] = p.output
        if p.error is not None:
            row["error"] = p.error
        if p.flags:
            row["flags"] = list(p.flags)
        if p.extra:
            row["extra"] = p.extra  # made JSON-safe when written (write_predictions)
        rows.append(row)
    return rows


def lines(model: str, examples: Sequence[Example], preds: Preds) -> Iterator[str]:
    """The model's predictions.jsonl lines (chunks of them), whatever the predictions are held in."""
    if isinstance(preds, PredictionColumns):
        yield from column_lines(model, [ex.id for ex in examples], [ex.label for ex in examples], preds)
        return
    rows = prediction_rows(model, examples, preds)
    for start in range(0, len(rows), 50_000):
        yield "".join(row_json(r) + "\n" for r in rows[start:start + 50_000])
