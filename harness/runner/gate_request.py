"""What ``harness gate`` is asked (:class:`GateRequest`) and a stored run it reads (:class:`StoredRun`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..suite import Suite


@dataclass
class GateRequest:
    results: Path
    candidate: str | None = None
    against: str | None = None
    baseline: Path | None = None
    rules: Path | None = None
    strict: bool = False  # --strict: inconclusive rules fail (a rules file's `strict: true` does too)
    suite: Suite | None = None  # the suite of the run, when known (harness run --gate)
    notes: tuple[str, ...] = ()  # said in every output of the verdict (e.g. gate: settings left out with --only)


@dataclass
class StoredRun:
    path: Path
    results: dict[str, Any]
    rows: list[dict[str, Any]] | None  # None: no per-example predictions
    missing_predictions: str | None = None
