"""Held-out examples and model predictions: the records every provider and metric exchanges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
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
