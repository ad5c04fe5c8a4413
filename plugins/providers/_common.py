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
    """The file a spec's argument names. A relative path is relative to ``spec.relative_to``: the suite folder
    for a model named in suite.yaml, the current directory for one given with ``--model`` (never both: a
    file of the same name in the current directory must not stand in for the suite's)."""
    p = Path(spec.argument).expanduser()
    if not p.is_absolute() and spec.relative_to is not None:
        p = spec.relative_to / p
    try:
        outside = spec.relative_to is not None and not getattr(suite, "allow_external_data", True) and \
            not p.resolve().is_relative_to(Path(spec.relative_to).resolve())
        found = p.is_file()
    except (OSError, ValueError):  # a name too long, a NUL character
        outside, found = False, False
    if outside:  # a suite is often someone else's: it reads only files of its own folder
        raise InputError(f"{spec.argument!r} is outside the suite folder: files a suite names must be inside it; "
                         "to read one from elsewhere, pass --allow-external-data", file=spec.origin or None,
                         field=f"models.{spec.name}")
    if not found:
        where = "" if spec.relative_to is None or Path(spec.argument).is_absolute() else \
            " (a path in a suite is relative to the suite folder)"
        raise InputError(f"{what} not found{where}", file=p, field=f"models.{spec.name}")
    return p


def shown_path(path: Path, suite: Any) -> str:
    """How results and reports name a model's file: relative to the suite folder when it is inside it, else
    only its name (results are shared; this machine's folders stay out of them)."""
    root = getattr(suite, "root", None)
    if root is not None and Path(path).resolve().is_relative_to(Path(root).resolve()):
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    return Path(path).name


def input_texts(examples: Sequence[Example], field: str) -> list[Any]:
    return [ex.prompt if field == "prompt" else ex.text for ex in examples]
