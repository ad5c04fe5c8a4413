"""Held-out examples and model predictions: the records every provider and metric exchanges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload


@dataclass(frozen=True, slots=True, weakref_slot=True)  # slots: a million held-out examples, ~100 bytes less each
class Example:
    """One held-out (or training) example.

    ``text`` is the raw input without template or separator (what a local classifier reads);
    ``prompt`` is the completion-style prompt a fine-tuned completions model expects (separator included);
    ``messages`` are chat messages without the gold answer (what a chat model receives).
    """

    id: str
    label: str
    text: str
    prompt: str
    messages: tuple[dict[str, str], ...]
    source: str = ""
    line: int = 0


OK, INVALID, FAILED = "ok", "invalid", "failed"


@dataclass
class Prediction:
    """A model's output on one example.

    ``label`` is the predicted label (None when the output matched no label, or the request failed);
    ``probs`` maps every label to a probability (summing to 1) or is None when the model gives none;
    ``error`` says why the example failed (no output at all); ``flags`` mark doubtful outputs, e.g.
    ``"label-outside-top-k"``; ``extra`` holds provider details (request body, off-label mass, usage...).
    """

    example_id: str
    label: str | None = None
    probs: dict[str, float] | None = None
    output: str | None = None
    error: str | None = None
    flags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.error is not None:
            return FAILED
        return OK if self.label is not None else INVALID

    @classmethod
    def failed(cls, example_id: str, reason: str, **extra: Any) -> Prediction:
        return cls(example_id=example_id, error=reason, extra=dict(extra))


class PredictionColumns(Sequence[Prediction]):
    """A model's predictions for a list of examples, held as columns: about 30 bytes an example where a list of
    :class:`Prediction` objects takes ~500, and what the runner turns into metrics, predictions.jsonl and the
    report without a Python object per example. A :class:`~harness.providers.LocalModel` that scores many
    examples may return it from ``predict_all`` instead of a list (the ``predictions`` provider does); it is a
    sequence of :class:`Prediction` too (one is built when an item is read), so code written for lists works.

    Row ``i`` is the prediction for ``ids[i]``. ``label[i]`` indexes ``labels`` (-1: no label: an invalid output
    or a failed example); ``probs`` (``len(ids)`` x ``len(labels)``, or None when no row has any) holds each
    row's probabilities over ``labels`` (summing to 1), NaN where the row has none. ``output`` and ``error``
    index their ``*_values`` (-1: none): the raw output text and the failure reason. ``flags`` maps a row to its
    flags. Columns carry no ``extra``: a provider that reports per-example details returns Prediction objects.
    """

    __slots__ = ("error", "error_values", "flags", "ids", "label", "labels", "output", "output_values", "probs")

    def __init__(self, ids: Sequence[str], labels: Sequence[str], label: Any, probs: Any = None,
                 output: Any = None, output_values: Sequence[str] = (), error: Any = None,
                 error_values: Sequence[str] = (), flags: Mapping[int, tuple[str, ...]] | None = None) -> None:
        import numpy as np

        n = len(ids)
        self.ids = ids
        self.labels = tuple(labels)
        self.label = np.asarray(label, dtype=np.int32)
        self.probs = None if probs is None else np.asarray(probs, dtype=np.float64)
        self.output = np.full(n, -1, dtype=np.int32) if output is None else np.asarray(output, dtype=np.int32)
        self.output_values = list(output_values)
        self.error = np.full(n, -1, dtype=np.int32) if error is None else np.asarray(error, dtype=np.int32)
        self.error_values = list(error_values)
        self.flags = dict(flags or {})
        if self.label.shape != (n,) or self.output.shape != (n,) or self.error.shape != (n,) or (
                self.probs is not None and self.probs.shape != (n, len(self.labels))):
            raise ValueError("every column of PredictionColumns must have one entry per id")

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, i: int) -> Prediction: ...
    @overload
    def __getitem__(self, i: slice) -> list[Prediction]: ...

    def __getitem__(self, i: int | slice) -> Prediction | list[Prediction]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("PredictionColumns index out of range")
        lab = int(self.label[i])
        probs = None
        if self.probs is not None and not _nan_row(self.probs[i]):
            probs = dict(zip(self.labels, (float(v) for v in self.probs[i])))
        out, err = int(self.output[i]), int(self.error[i])
        return Prediction(example_id=self.ids[i], label=self.labels[lab] if lab >= 0 else None, probs=probs,
                          output=self.output_values[out] if out >= 0 else None,
                          error=self.error_values[err] if err >= 0 else None, flags=self.flags.get(i, ()))

    def has_probs(self) -> Any:
        """Boolean mask of the rows with probabilities."""
        import numpy as np

        if self.probs is None:
            return np.zeros(len(self), dtype=bool)
        return ~np.isnan(self.probs).any(axis=1)

    def statuses(self) -> Any:
        """Per row: 0 ok, 1 invalid (no label), 2 failed (see :attr:`Prediction.status`)."""
        import numpy as np

        return np.where(self.error >= 0, 2, np.where(self.label >= 0, 0, 1)).astype(np.int8)

    def rows(self, start: int, stop: int) -> PredictionColumns:
        """The predictions of rows ``start`` to ``stop`` (the examples of one split)."""
        return PredictionColumns(self.ids[start:stop], self.labels, self.label[start:stop],
                                 None if self.probs is None else self.probs[start:stop], self.output[start:stop],
                                 self.output_values, self.error[start:stop], self.error_values,
                                 {i - start: f for i, f in self.flags.items() if start <= i < stop})


def _nan_row(row: Any) -> bool:
    return any(v != v for v in row)  # NaN is the one value unequal to itself
