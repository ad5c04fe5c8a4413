"""``predictions:PATH`` — precomputed per-example outputs joined on example id.

JSONL: one object per line, ``{"id": ..., "label": "hockey", "probs": {"baseball": 0.1, "hockey": 0.9}}``
(``label`` or ``probs`` may be omitted, not both). CSV/TSV: columns ``id``, ``label`` and optionally one
``prob_<label>`` column per label (a label left out has probability 0). A predicted label outside the label
set counts as an invalid output; an id that is not in the dataset is an error.

Probabilities must lie in [0, 1] and sum to 1 within ``PROB_TOLERANCE`` (rounding in the file; such rows are
rescaled to sum to exactly 1). Rows off by more are an input error naming the file, line and field — or,
with the option ``renormalize: true``, rescaled and flagged ``probs-renormalized`` (counted per model).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import hookimpl, jsonio
from harness.errors import InputError
from harness.examples import Example, Prediction, PredictionColumns
from harness.providers import LocalModel, ModelSpec, Options, Provider, Resolved
from harness.textfile import check_header, csv_source, lines, read_text

from .._common import model_file, shown_path
from .columns import read_columns

PROB_TOLERANCE = 0.01
"""How far a row's probabilities may sum from 1 (rounding) before the row is an input error."""

RENORMALIZED = "probs-renormalized"


class PredictionsOptions(Options):
    id_field: str = "id"
    label_field: str = "label"
    renormalize: bool = False  # rescale rows whose probabilities do not sum to 1, flagging them


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    out = []
    if path.suffix.lower() in (".csv", ".tsv"):
        kind = path.suffix.lower()[1:]
        reader = csv.DictReader(csv_source(read_text(path, kind)), delimiter="\t" if kind == "tsv" else ",")
        line = 1
        try:
            if reader.fieldnames is not None:
                check_header(reader.fieldnames, path)
            line = 2 if reader.fieldnames is not None else 1
            for row in reader:
                out.append((line, dict(row)))
                line = reader.line_num + 1
        except csv.Error as exc:
            raise InputError(f"malformed {kind.upper()} ({exc})", file=path, line=line) from None
        return out
    for lineno, text in lines(read_text(path, "jsonl")):
        if not text.strip():
            continue
        try:
            row = jsonio.loads(text, unique_keys=True)
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed JSON ({exc.msg})", file=path, line=lineno) from None
        except jsonio.DuplicateKey as exc:
            raise InputError(f"duplicate key {exc.key!r} (a JSON object names it twice)", file=path, line=lineno,
                             field=exc.field) from None
        if not isinstance(row, dict):
            raise InputError("each line must be a JSON object", file=path, line=lineno)
        out.append((lineno, row))
    return out


def _probs(row: dict[str, Any], labels: Sequence[str], path: Path, line: int, renormalize: bool = False
           ) -> tuple[dict[str, float] | None, bool]:
    """(probabilities over the label set or None, whether they were rescaled beyond the tolerance)."""
    raw: dict[str, Any] | None = None
    key = "probs.{}"  # how the file names one label's probability, for error messages
    if isinstance(row.get("probs"), dict):
        raw = row["probs"]
    elif "probs" in row and row["probs"] is not None:
        raise InputError("probs must be an object mapping label to probability", file=path, line=line,
                         field="probs")
    else:
        cols = {k[5:]: v for k, v in row.items() if isinstance(k, str) and k.startswith("prob_")}
        raw = cols if any(str(v).strip() for v in cols.values()) else None  # all blank: label only
        key = "prob_{}"
    if not raw:  # None, or {}: this row gives a label only
        return None, False
    probs: dict[str, float] = {}
    for lab in labels:
        value = raw.get(lab, 0.0)
        try:
            p = float(value)
        except (TypeError, ValueError):
            raise InputError(f"probability {value!r} is not a number", file=path, line=line,
                             field=key.format(lab)) from None
        if not math.isfinite(p) or p < 0 or p > 1:
            raise InputError(f"probability {value!r} must be a number in [0, 1]", file=path, line=line,
                             field=key.format(lab))
        probs[lab] = p
    extra = [k for k in raw if k not in labels]
    if extra:
        raise InputError(f"probability for {extra[0]!r}, which is not in the label set", file=path, line=line,
                         field=key.format(extra[0]))
    total = sum(probs.values())
    where = "probs" if key.startswith("probs") else "prob_*"
    if total <= 0:
        raise InputError("probabilities sum to 0", file=path, line=line, field=where)
    off = abs(total - 1.0) > PROB_TOLERANCE
    if off and not renormalize:
        raise InputError(f"probabilities sum to {total:.6g}, not 1 (tolerance {PROB_TOLERANCE:g}); fix the file, "
                         "or set the option renormalize: true to rescale such rows (they are flagged)",
                         file=path, line=line, field=where)
    return {lab: p / total for lab, p in probs.items()}, off


class PredictionsModel(LocalModel):
    def __init__(self, name: str, spec: ModelSpec, path: Path, labels: Sequence[str], opts: PredictionsOptions,
                 shown: str | None = None):
        super().__init__(name, spec)
        self.path = path
        self.shown = shown or path.name  # the file as results and reports name it
        self.labels = tuple(labels)
        self.opts = opts
        self._read_for: tuple[tuple[str, ...], Sequence[Prediction]] | None = None
        self.splits = "held-out dataset"  # where its ids must be: "held-out or validation split" with one

    def describe(self) -> dict[str, Any]:
        return {"path": self.shown}

    def predict_all(self, examples: Sequence[Example]) -> Sequence[Prediction]:
        """The file's predictions for ``examples`` (read once: :meth:`PredictionsProvider.resolve` reads and
        checks the whole file, so a bad row stops the run before any other model sends a request). A JSONL file
        whose rows are all plain (string ids and labels, numeric probabilities) is read into columns
        (:mod:`.columnar`); anything else, and every error, goes through the row-by-row reading below, which
        says exactly what is wrong where."""
        ids = tuple(ex.id for ex in examples)
        if self._read_for is None or self._read_for[0] != ids:
            fast = None
            if self.path.suffix.lower() not in (".csv", ".tsv"):
                fast = read_columns(self.path, examples, self.labels, self.opts.id_field, self.opts.label_field,
                                    self.opts.renormalize, PROB_TOLERANCE, RENORMALIZED,
                                    f"no prediction for this id in {self.shown}")
            self._read_for = (ids, fast if fast is not None else self._read(examples))
        preds = self._read_for[1]
        return preds if isinstance(preds, PredictionColumns) else list(preds)

    def _read(self, examples: Sequence[Example]) -> list[Prediction]:
        known = {ex.id for ex in examples}
        seen: dict[str, int] = {}
        preds: dict[str, Prediction] = {}
        for line, row in _rows(self.path):
            if self.opts.id_field not in row or row[self.opts.id_field] in (None, ""):
                raise InputError("missing example id", file=self.path, line=line, field=self.opts.id_field)
            ex_id = str(row[self.opts.id_field])
            if ex_id not in known:
                raise InputError(f"id {ex_id!r} is not in the {self.splits}", file=self.path, line=line,
                                 field=self.opts.id_field)
            if ex_id in seen:
                raise InputError(f"duplicate id {ex_id!r} (first on line {seen[ex_id]})", file=self.path,
                                 line=line, field=self.opts.id_field)
            seen[ex_id] = line
            probs, rescaled = _probs(row, self.labels, self.path, line, self.opts.renormalize)
            raw_label = row.get(self.opts.label_field)
            if raw_label in (None, "") and probs is None:
                raise InputError("a row needs a label or probabilities", file=self.path, line=line,
                                 field=self.opts.label_field)
            if raw_label in (None, ""):
                label: str | None = max(self.labels, key=lambda lab: probs[lab])  # type: ignore[index]
                output = None
            else:
                output = str(raw_label)
                label = output.strip() if output.strip() in self.labels else None
            preds[ex_id] = Prediction(example_id=ex_id, label=label, probs=probs, output=output,
                                      flags=(RENORMALIZED,) if rescaled else ())
        return [preds.get(ex.id) or Prediction.failed(ex.id, f"no prediction for this id in {self.shown}")
                for ex in examples]


class PredictionsProvider(Provider):
    name = "predictions"
    description = "Precomputed predictions (JSONL or CSV: id, label, per-class probabilities) joined on id."
    argument_help = "PATH to a .jsonl/.csv/.tsv file"
    options_model = PredictionsOptions

    def resolve(self, spec: ModelSpec, suite: Any) -> Resolved:
        opts = self.parse_options(spec)
        p = model_file(spec, suite, "predictions file")
        model = PredictionsModel(spec.name, spec, p, suite.labels, opts, shown_path(p, suite))
        # a bad row is an input error before anything is sent; the run asks for the held-out and the validation
        # split's examples together (one file may hold both)
        validation = suite.validation.examples if suite.validation is not None else ()
        if validation:
            model.splits = "held-out or validation split"
        model.predict_all(tuple(suite.heldout.examples) + tuple(validation))
        return Resolved([model])


@hookimpl
def register_providers(register):
    register(PredictionsProvider())
