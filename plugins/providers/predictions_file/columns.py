"""Reading a plain predictions file into columns (:class:`harness.examples.PredictionColumns`) at scale.

A million rows read one by one into :class:`~harness.examples.Prediction` objects took ~13 s and ~0.5 GB per
model. Here each line is parsed and its few fields go straight into typed arrays (no object per row is kept),
and the probabilities are checked and rescaled all at once with numpy, to the same numbers: the same sum, in
the same order, the same division. Only plain rows take this path — a string id, a string label (or none), a
``probs`` object of numbers over the label set (or none). Anything else (a CSV file, a number as id or label,
``prob_*`` fields, a probability written as a string) and every error return None, and the provider reads the
file row by row, which accepts what it accepts and names the file, line and field of the first problem.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import orjson

from harness.examples import Example, PredictionColumns
from harness.jsonio import may_repeat_keys
from harness.textfile import iter_lines, read_text


class _Irregular(Exception):
    """A row the column reader does not take (the row-by-row reader decides)."""


def read_columns(path: Path, examples: Sequence[Example], labels: Sequence[str], id_field: str, label_field: str,
                 renormalize: bool, tolerance: float, flag: str, missing: str) -> PredictionColumns | None:
    """The predictions of ``path`` for ``examples`` as columns, or None when the row-by-row reader must decide."""
    try:
        return _read(path, examples, tuple(labels), id_field, label_field, renormalize, tolerance, flag, missing)
    except _Irregular:
        return None


def _read(path: Path, examples: Sequence[Example], labels: tuple[str, ...], id_field: str, label_field: str,
          renormalize: bool, tolerance: float, flag: str, missing: str) -> PredictionColumns:
    text = read_text(path, "jsonl")  # not UTF-8: the row-by-row reader reports it (the same call raises there)
    index = {ex.id: i for i, ex in enumerate(examples)}
    n, k = len(examples), len(labels)
    label_set = frozenset(labels)
    seen = bytearray(n)
    pos, has, values = array("q"), array("b"), array("d")
    out_codes: dict[str, int] = {}
    outputs = array("i")
    zeros = [0.0] * k
    loads = orjson.loads
    for line in iter_lines(text):
        if not line.strip():
            continue
        try:
            row = loads(line)
        except orjson.JSONDecodeError:
            raise _Irregular from None  # malformed, or NaN / Infinity the standard library reads
        if type(row) is not dict or may_repeat_keys(line, row):  # a key twice: the other reader names it
            raise _Irregular
        ex_id = row.get(id_field)
        if type(ex_id) is not str or not ex_id:
            raise _Irregular
        i = index.get(ex_id)
        if i is None or seen[i]:
            raise _Irregular  # not in the held-out set, or a duplicate: an error the other reader words
        seen[i] = 1
        probs = row.get("probs")
        if probs is None:
            if any(type(key) is str and key.startswith("prob_") for key in row):
                raise _Irregular
            has.append(0)
            values.extend(zeros)
        elif type(probs) is dict:
            if not probs.keys() <= label_set:
                raise _Irregular
            has.append(1 if probs else 0)
            try:  # float() of each number, as the other reader takes them; a string, null or object is its
                values.extend([probs.get(lab, 0.0) for lab in labels] if probs else zeros)
            except (TypeError, OverflowError):
                raise _Irregular from None
        else:
            raise _Irregular
        raw = row.get(label_field)
        if raw is None or raw == "":
            if not has[-1]:
                raise _Irregular  # neither label nor probabilities: an error
            outputs.append(-1)
        elif type(raw) is str:
            outputs.append(out_codes.setdefault(raw, len(out_codes)))
        else:
            raise _Irregular
        pos.append(i)
    rows = np.frombuffer(pos, dtype=np.int64) if len(pos) else np.zeros(0, dtype=np.int64)
    given = np.frombuffer(has, dtype=np.int8).astype(bool) if len(has) else np.zeros(0, dtype=bool)
    p = np.frombuffer(values, dtype=np.float64).reshape(-1, k) if len(values) else np.zeros((0, k))
    out = np.frombuffer(outputs, dtype=np.int32) if len(outputs) else np.zeros(0, dtype=np.int32)
    p_given = p[given]
    if not np.isfinite(p_given).all() or (p_given < 0).any() or (p_given > 1).any():
        raise _Irregular
    total = np.zeros(len(p_given))
    for j in range(k):  # Python's sum over the labels, in their order
        total = total + p_given[:, j]
    if (total <= 0).any():
        raise _Irregular
    off = np.abs(total - 1.0) > tolerance
    if off.any() and not renormalize:
        raise _Irregular
    scaled = p_given / total[:, None]
    probs_out = np.full((n, k), np.nan)
    target = rows[given]
    probs_out[target] = scaled
    # the predicted label: the raw label stripped when it is in the label set; else, with no raw label, the
    # most probable label (the first of equal ones)
    by_code = [labels.index(s.strip()) if s.strip() in label_set else -1 for s in out_codes]
    label_col = np.full(n, -1, dtype=np.int32)
    code_of = np.asarray(by_code, dtype=np.int32)
    has_out = out >= 0
    label_col[rows[has_out]] = code_of[out[has_out]] if len(code_of) else []
    argmax_rows = ~has_out  # these all have probabilities
    label_col[rows[argmax_rows]] = probs_out[rows[argmax_rows]].argmax(axis=1)
    output_col = np.full(n, -1, dtype=np.int32)
    output_col[rows] = out
    error_col = np.where(np.frombuffer(bytes(seen), dtype=np.uint8) == 0, 0, -1).astype(np.int32)
    flags = {int(r): (flag,) for r in target[off]}
    return PredictionColumns([ex.id for ex in examples], labels, label_col, probs_out if given.any() else None,
                             output_col, list(out_codes), error_col, [missing], flags)

