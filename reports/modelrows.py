"""One model's predictions as the report reads them: columns built once per model, from predictions.jsonl rows
(however junky: the rules below are the ones every section applied to each row) or straight from the run's
columns (:class:`harness.examples.PredictionColumns`), so a section is a few numpy operations, not a loop over
a million dicts, and ``harness run`` never reads back the predictions it has just written.

Per row:

* ``gold``: the gold label's index, -1 when it is not one of the labels (such rows are left out, and counted);
* ``pred``: the predicted label's index, -1 when there is none or it is not a label (an invalid output or a
  failed request);
* ``probs``: the probabilities over the labels (a label left out counts 0, null counts 0), NaN where the row has
  none usable: no object, a value that is not a number, not finite, or a sum that is not positive;
* ``conf``: the probability the row gives its own predicted label, as written (NaN when it gives none);
* ``ids``: the example ids as written; ``flags``: each flag and how many rows carry it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.examples import PredictionColumns

Row = dict[str, Any]


@dataclass
class ModelRows:
    ids: Sequence[Any]
    gold: np.ndarray
    pred: np.ndarray
    probs: np.ndarray
    conf: np.ndarray
    flags: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def __bool__(self) -> bool:
        return len(self.ids) > 0

    @property
    def with_probs(self) -> np.ndarray:
        """Rows that count for the probability sections: usable probabilities and a gold label."""
        return ~np.isnan(self.probs).any(axis=1) & (self.gold >= 0)

    @classmethod
    def from_rows(cls, rows: Sequence[Row], labels: Sequence[str]) -> ModelRows:
        index = {lab: i for i, lab in enumerate(labels)}
        k, n = len(labels), len(rows)
        gold = np.full(n, -1, dtype=np.int64)
        pred = np.full(n, -1, dtype=np.int64)
        probs = np.full((n, k), np.nan)
        conf = np.full(n, np.nan)
        flags: Counter[str] = Counter()
        ids = []
        for i, r in enumerate(rows):
            ids.append(r.get("id"))
            g = r.get("gold")
            if g in index:
                gold[i] = index[g]
            p = r.get("pred")
            pr = r.get("probs")
            if isinstance(p, str) and p in index:
                pred[i] = index[p]
                if isinstance(pr, dict):
                    v = pr.get(p)
                    if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v):
                        conf[i] = float(v)
            if isinstance(pr, dict):
                try:
                    vec = [float(pr.get(lab, 0.0) or 0.0) for lab in labels]
                except (TypeError, ValueError):
                    vec = None
                if vec is not None and all(np.isfinite(vec)) and sum(vec) > 0:
                    probs[i] = vec
            for f in r.get("flags") or ():
                flags[str(f)] += 1
        return cls(ids, gold, pred, probs, conf, _sorted(flags))

    @classmethod
    def from_columns(cls, cols: PredictionColumns, gold_labels: Sequence[str], labels: Sequence[str]) -> ModelRows:
        """A run's columns (``gold_labels``: the examples' gold labels, in the columns' order)."""
        index = {lab: i for i, lab in enumerate(labels)}
        remap = np.asarray([index.get(lab, -1) for lab in cols.labels] + [-1], dtype=np.int64)
        pred = remap[cols.label.astype(np.int64)]  # -1 indexes the final -1
        gold = np.fromiter((index.get(g, -1) for g in gold_labels), dtype=np.int64, count=len(gold_labels))
        probs = np.full((len(cols), len(labels)), np.nan)
        if cols.probs is not None:
            has = cols.has_probs()
            cols_of = [cols.labels.index(lab) for lab in labels if lab in cols.labels]
            mine = [j for j, lab in enumerate(labels) if lab in cols.labels]
            block = np.zeros((int(has.sum()), len(labels)))
            block[:, mine] = cols.probs[has][:, cols_of]
            ok = np.isfinite(block).all(axis=1) & (_row_sums(block) > 0)
            rows = np.flatnonzero(has)[ok]
            probs[rows] = block[ok]
        conf = np.full(len(cols), np.nan)
        if cols.probs is not None:
            valid = (pred >= 0) & (cols.label >= 0)
            got = cols.probs[np.flatnonzero(valid), cols.label[valid]]
            conf[np.flatnonzero(valid)] = got  # NaN where the row has no probabilities
        flags: Counter[str] = Counter()
        for fl in cols.flags.values():
            for f in fl:
                flags[str(f)] += 1
        return cls(list(cols.ids), gold, pred, probs, conf, _sorted(flags))


def _row_sums(block: np.ndarray) -> np.ndarray:
    """Each row's sum in label order, as Python's ``sum`` adds a row's values."""
    total = np.zeros(block.shape[0])
    for j in range(block.shape[1]):
        total = total + block[:, j]
    return total


def _sorted(c: Counter[str]) -> dict[str, int]:
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


def as_model_rows(rows: ModelRows | Sequence[Row], labels: Sequence[str]) -> ModelRows:
    return rows if isinstance(rows, ModelRows) else ModelRows.from_rows(rows, labels)


def group(predictions: Iterable[Row], names: Sequence[str], labels: Sequence[str]) -> dict[str, ModelRows]:
    """Each model's rows (for the models named in results.json, in that order; other rows are ignored)."""
    groups: dict[str, list[Row]] = {n: [] for n in names}
    for row in predictions:
        if isinstance(row, dict) and row.get("model") in groups:
            groups[row["model"]].append(row)
    return {m: ModelRows.from_rows(rows, labels) for m, rows in groups.items()}
