"""The predictions provider's column reader (plugins/providers/predictions_file/columns.py) reads exactly what
the row-by-row reader reads: on random files mixing every kind of row, the columns equal the row reader's
predictions, and wherever the row reader raises (or takes something unusual), the column reader hands the file
back to it."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from harness.errors import InputError
from harness.examples import Example, Prediction, PredictionColumns
from harness.providers import ModelSpec
from harness_plugins.providers.predictions_file import (
    PROB_TOLERANCE,
    RENORMALIZED,
    PredictionsModel,
    PredictionsOptions,
)
from harness_plugins.providers.predictions_file.columns import read_columns

LABELS = ("neg", "pos", "mid")


def _examples(n: int) -> list[Example]:
    return [Example(id=f"e{i}", label=LABELS[i % 3], text=f"t{i}", prompt=f"t{i}", messages=()) for i in range(n)]


def _value(rng: random.Random, odd: float):
    r = rng.random()
    if r < odd:
        return rng.choice(["0.5", None, True, [0.1], {"x": 1}, float("nan"), 1.5, -0.1, 0, 1, 10**30])
    return rng.random()


def _row(rng: random.Random, i: int, odd: float) -> dict:
    row: dict = {"id": f"e{i}" if rng.random() > odd / 4 else rng.choice([i, "", None, f"x{i}", f"e{i - 1}"])}
    kind = rng.random()
    if kind < 0.6:
        p = [rng.random() + 0.01 for _ in LABELS]
        scale = rng.choice([1.0, 1.0, 1.0, 0.996, 0.97, 1.3])
        row["probs"] = {lab: v / sum(p) * scale for lab, v in zip(LABELS, p)}
        if rng.random() < odd:
            row["probs"][rng.choice(LABELS)] = _value(rng, 1.0)
        if rng.random() < odd / 2:
            del row["probs"][rng.choice(LABELS)]
        if rng.random() < odd / 4:
            row["probs"]["other"] = 0.0
    elif kind < 0.65:
        row["probs"] = rng.choice([None, {}, [0.5, 0.5], "x"])
    elif kind < 0.68:
        row["prob_pos"] = 0.5
    if rng.random() < 0.8:
        row["label"] = rng.choice([*LABELS, " pos", "pos\n", "other", "", None] + ([1, True] if odd else []))
    return row


def _write(path: Path, rows: list, rng: random.Random) -> None:
    lines = [json.dumps(r) for r in rows]
    if rng.random() < 0.2:
        lines.insert(rng.randrange(len(lines) + 1), "")
    if rng.random() < 0.05:
        lines.insert(rng.randrange(len(lines) + 1), "{not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _same(a: Prediction, b: Prediction) -> bool:
    return (a.example_id, a.label, a.output, a.error, tuple(a.flags), a.extra) == \
        (b.example_id, b.label, b.output, b.error, tuple(b.flags), b.extra) and (
        (a.probs is None and b.probs is None) or (a.probs is not None and b.probs is not None
                                                  and list(a.probs.items()) == list(b.probs.items())))


@pytest.mark.parametrize("seed", range(60))
def test_the_column_reader_reads_what_the_row_reader_reads(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    n = rng.choice([1, 5, 40, 200])
    odd = rng.choice([0.0, 0.0, 0.02, 0.2])
    rows = [_row(rng, i, odd) for i in rng.sample(range(n), rng.randint(0, n))]
    path = tmp_path / "p.jsonl"
    _write(path, rows, rng)
    examples = _examples(n)
    renorm = rng.random() < 0.5
    model = PredictionsModel("m", ModelSpec("m", "predictions", str(path)), path, LABELS,
                             PredictionsOptions(renormalize=renorm), "p.jsonl")
    try:
        slow = model._read(examples)
    except InputError:
        slow = None
    fast = read_columns(path, examples, LABELS, "id", "label", renorm, PROB_TOLERANCE, RENORMALIZED,
                        "no prediction for this id in p.jsonl")
    if slow is None:
        assert fast is None
        return
    if fast is not None:
        assert isinstance(fast, PredictionColumns) and len(fast) == len(slow)
        for a, b in zip(fast, slow):
            assert _same(a, b), (a, b)
        assert (fast.statuses() == np.array([{"ok": 0, "invalid": 1, "failed": 2}[p.status] for p in slow])).all()


def test_a_plain_file_is_read_into_columns(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps({"id": f"e{i}", "label": "pos", "probs": {"neg": 0.25, "pos": 0.5,
                                                                               "mid": 0.25}}) + "\n"
                            for i in range(3)), encoding="utf-8")
    model = PredictionsModel("m", ModelSpec("m", "predictions", str(path)), path, LABELS, PredictionsOptions())
    preds = model.predict_all(_examples(4))
    assert isinstance(preds, PredictionColumns)
    assert [p.status for p in preds] == ["ok", "ok", "ok", "failed"]
    assert preds[0].probs == {"neg": 0.25, "pos": 0.5, "mid": 0.25}
