"""A suite with a validation split and models given as predictions files (acceptance finding): a file holding
both splits' ids was refused ("id 'v0' is not in the held-out dataset"), and with held-out ids only the verdict
told the user to add the validation split the suite already had."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from harness.cli.main import main


def _suite(tmp: Path, both: bool) -> Path:
    rng = np.random.default_rng(3)
    lines = {"heldout": ["id,text,label"], "validation": ["id,text,label"]}
    rows: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    for split, prefix in (("heldout", "h"), ("validation", "v")):
        for i in range(200):
            y = int(rng.random() < 0.5)
            lines[split].append(f"{prefix}{i},text {prefix} {i},{'pos' if y else 'neg'}")
            if split == "validation" and not both:
                continue
            for name, skill in (("a", 0.5), ("b", 1.5), ("c", 1.0)):
                p = float(1 / (1 + np.exp(-(skill * (2 * y - 1) + rng.normal()))))
                rows[name].append(json.dumps({"id": f"{prefix}{i}", "probs": {"neg": 1 - p, "pos": p}}))
    for split, text in lines.items():
        (tmp / f"{split}.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    for name, text in rows.items():
        (tmp / f"{name}.jsonl").write_text("\n".join(text) + "\n", encoding="utf-8")
    (tmp / "suite.yaml").write_text("data: {heldout: heldout.csv, validation: validation.csv}\nlabels: [neg, pos]\n"
                                    "baseline: a\nmodels:\n  a: predictions:a.jsonl\n  b: predictions:b.jsonl\n"
                                    "  c: predictions:c.jsonl\n", encoding="utf-8")
    return tmp


def _selection(tmp: Path) -> dict:
    out = tmp / "out"
    assert main(["run", str(tmp), "--out", str(out), "--no-report", "--progress", "off", "--bootstrap", "200"]) == 0
    return json.loads((out / "results.json").read_text(encoding="utf-8"))["verdict"]["selection"]


def test_one_predictions_file_per_model_holds_both_splits(tmp_path: Path) -> None:
    sel = _selection(_suite(tmp_path, both=True))
    assert sel["chosen_on"] == "validation" and sel["optimistic"] is False


def test_predictions_for_heldout_only_say_why_validation_was_not_used(tmp_path: Path) -> None:
    sel = _selection(_suite(tmp_path, both=False))
    assert sel["chosen_on"] == "held-out"
    assert "validation split has no scored predictions from a, b, c" in sel["note"]
    assert "add a `validation:` split" not in sel["note"]
