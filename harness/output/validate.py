"""Checking a results.json and its predictions.jsonl before anything reads them (``harness report``,
``harness export``, :func:`harness.output.frames.load_frames`).

The files are public and may be hand-edited, produced by another tool or damaged, so a reader validates what it
relies on — the shape of every container and the type of every value it indexes, compares or computes with — and
reports the first problem as an :class:`InputError` naming the file, the line and the field. Readers still ignore
fields they do not know (docs/results-format.md): every model here allows extra fields.
"""

from __future__ import annotations

import json
import math
from json.decoder import scanstring
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import InputError

Num = float | None  # strict: a JSON number (int or float) or null; never a string or a boolean


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _Label(_Part):
    name: str
    display: str | None = None


class _Dataset(_Part):
    path: str | None = None
    format: str | None = None
    sha256: str | None = None
    n_examples: int | None = None


class _Suite(_Part):
    name: str | None = None
    description: str | None = None
    path: str | None = None
    task: str | None = None
    labels: list[_Label] = []
    positive: str | None = None
    metric_options: dict[str, Any] = {}
    dataset: _Dataset | None = None


class _MetricInfo(_Part):
    name: str
    title: str | None = None
    description: str | None = None
    higher_is_better: bool | None = None


class _Value(_Part):
    value: Num = None
    n: int | None = None
    reason: str | None = None


class _Interval(_Part):
    low: Num = None
    high: Num = None
    method: str | None = None


class _Model(_Part):
    name: str
    spec: str | None = None
    provider: str | None = None
    info: dict[str, Any] = {}
    counts: dict[str, int | None] | None = None
    metrics: dict[str, _Value] = {}
    intervals: dict[str, _Interval] = {}
    timing: dict[str, Num] | None = None
    failures: dict[str, int] = {}
    usage: dict[str, Any] | None = None
    cost: dict[str, Any] | None = None
    error: str | None = None


class _Stat(_Part):
    delta: Num = None
    low: Num = None
    high: Num = None
    p_value: Num = None
    p_adjusted: Num = None
    method: str | None = None
    reason: str | None = None


class _Pair(_Part):
    a: str
    b: str
    n: int | None = None
    metrics: dict[str, _Stat] = {}
    discordant: dict[str, int | None] | None = None
    mde_accuracy: Num = None


class _Comparisons(_Part):
    alpha: Num = None
    pairs: list[_Pair] = []
    omnibus: dict[str, Any] | None = None


class _Job(_Part):
    curves: dict[str, list[Any]] = {}
    checkpoints: list[dict[str, Any]] = []


class _PredictionsRef(_Part):
    path: str
    rows: int | None = None


class _Results(_Part):
    suite: _Suite | None = None
    baseline: str | None = None
    metrics: list[_MetricInfo] = []
    models: list[_Model] = []
    training: dict[str, _Job] = {}
    predictions: _PredictionsRef | None = None
    comparisons: _Comparisons | None = None
    timings: dict[str, Num] | None = None
    cost: dict[str, Any] | None = None
    engine: dict[str, Any] | None = None


def check_results(data: dict[str, Any], text: str, path: Path) -> None:
    """Raise :class:`InputError` (file, line, field) for the first value of ``data`` a reader could not use."""
    try:
        _Results.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err.get("loc", ()))
        raise InputError(err.get("msg", "invalid value"), file=path, line=line_of(text, loc),
                         field=".".join(map(str, loc)) or None) from None


def check_prediction_row(row: Any, path: Path, line: int) -> None:
    """One predictions.jsonl row: the fields the report and the exports read, with the types they expect."""
    if not isinstance(row, dict):
        raise InputError("each line must be a JSON object", file=path, line=line)
    for key, optional in (("model", False), ("id", False), ("gold", True), ("pred", True), ("status", True),
                          ("error", True)):
        value = row.get(key)
        if not isinstance(value, str) and not (optional and value is None):
            raise InputError(f"must be a string{' or null' if optional else ''}, got {_kind(value)}", file=path,
                             line=line, field=key)
    probs = row.get("probs")
    if probs is not None:
        if not isinstance(probs, dict):
            raise InputError(f"must be an object mapping label to probability, got {_kind(probs)}", file=path,
                             line=line, field="probs")
        for label, p in probs.items():
            if p is not None and (isinstance(p, bool) or not isinstance(p, (int, float))
                                  or not (math.isnan(p) or -1e-9 <= p <= 1 + 1e-9)):
                raise InputError(f"probability {p!r} is not a number between 0 and 1 (or null)", file=path,
                                 line=line, field=f"probs.{label}")
    flags = row.get("flags")
    if flags is not None and not isinstance(flags, list):
        raise InputError(f"must be a list, got {_kind(flags)}", file=path, line=line, field="flags")


def _kind(value: Any) -> str:
    return "null" if value is None else {dict: "an object", list: "a list", bool: "a boolean", str: "a string"}.get(
        type(value), "a number")


# --- where a value is: the line of a path in a JSON text ---------------------------------------------------

_WS = " \t\n\r"


def line_of(text: str, path: tuple[Any, ...]) -> int | None:
    """The 1-based line where the value at ``path`` (keys and list indexes) starts in JSON ``text``; the line of
    the deepest part of the path that exists; None if the text is not what the path expects."""
    decoder = json.JSONDecoder()
    pos = _skip(text, 0)
    try:
        for part in path:
            found = _child(text, pos, part, decoder)
            if found is None:
                break
            pos = found
    except (ValueError, IndexError, RecursionError):
        pass
    return text.count("\n", 0, pos) + 1 if text else None


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _child(text: str, pos: int, part: Any, decoder: json.JSONDecoder) -> int | None:
    """Position of the value of key/index ``part`` in the object/array starting at ``pos``."""
    opener = text[pos]
    if opener not in "{[" or (opener == "{") != isinstance(part, str):
        return None
    pos = _skip(text, pos + 1)
    index = 0
    found = None
    while text[pos] not in "}]":
        if opener == "{":
            key, pos = scanstring(text, pos + 1)
            pos = _skip(text, _skip(text, pos) + 1)  # past the colon
            hit = key == part
        else:
            hit = index == part
        if hit:
            found = pos  # the last duplicate key wins, as it does for the parser
        _, pos = decoder.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
        index += 1
    return found
