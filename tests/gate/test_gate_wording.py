"""The gate speaks of each metric in its own units: percentage points for shares (accuracy, precision, recall,
F1, AUROC, AUPRC), plain differences for log loss, Brier score and calibration error (acceptance finding 15)."""

from __future__ import annotations

import json
import re

import numpy as np
from conftest import gold_labels, predictions

from harness.analysis.gate.assessment import size
from harness.cli.main import main
from harness.plugins import load_registry

N = 400
SHARES = ("accuracy", "precision", "recall", "fbeta", "f1_macro", "f1_weighted", "auroc", "auprc")
NOT_SHARES = ("log_loss", "brier", "ece")


def test_the_built_in_metrics_say_which_are_shares():
    metrics = load_registry().metrics  # the built-in plugins
    assert {name for name in (*SHARES, *NOT_SHARES) if metrics[name].proportion} == set(SHARES)


def test_reasons_use_points_only_for_shares(gate_suite, run_models, rules_file, tmp_path):
    gold = gold_labels(N, ("neg", "pos"))
    rng = np.random.default_rng(5)
    base_right = rng.random(N) < 0.85
    cand_right = base_right.copy()
    cand_right[np.flatnonzero(cand_right)[:25]] = False  # a drop: every reason has a size in it
    conf = 0.7 + 0.25 * rng.random(N)
    run = run_models(gate_suite(gold, positive="pos"), {
        "base": predictions(gold, ["neg", "pos"], base_right, conf),
        "cand": predictions(gold, ["neg", "pos"], cand_right, conf)})
    kinds = "".join(f"  - {{kind: regression, metric: {m}}}\n" for m in (*SHARES[:1], "auroc", *NOT_SHARES))
    kinds += "  - {kind: ceiling, metric: ece, max: 0.5}\n  - {kind: floor, metric: brier, min: 0.01, on: bound}\n"
    kinds += "  - {kind: floor, metric: accuracy, min: 0.5}\n"
    kinds += "  - {kind: non_inferiority, metric: log_loss, margin: 0.02}\n"
    rules = rules_file("rules:\n" + kinds)
    main(["gate", str(run), "--candidate", "cand", "--against", "base", "--rules", str(rules),
          "--json", str(tmp_path / "v.json"), "--markdown", str(tmp_path / "v.md")])
    for r in json.loads((tmp_path / "v.json").read_text())["rules"]:
        if r["kind"] == "health":
            continue
        reason = re.sub(r"\d+% confidence", "", r["reason"])  # the level is a percentage for every metric
        assert re.search(r"\d", reason), reason  # the reason gives a number...
        if r["metric"] in SHARES:
            assert "point" in reason or "%" in reason, reason
        else:  # ...in the metric's own units
            assert "point" not in reason and "%" not in reason, reason
    markdown = re.sub(r"\d+% (confidence|one-sided)", "", (tmp_path / "v.md").read_text())
    for line in markdown.splitlines():
        if any(m in line for m in NOT_SHARES):
            assert " point" not in line and not re.search(r"\d%", line), line


def test_sizes():
    assert size(0.024, True) == "2.4 points" and size(0.01, True) == "1 point"
    assert size(-0.024, False) == "0.024"
