"""A stored baseline is compared only when its metrics mean what the run's do: the same labels, the same positive
class, the same metric_options — else exit 2 naming what differs (acceptance finding 3)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import gold_labels, predictions

from harness.cli.main import main

N = 300
LABELS = ["neg", "pos"]


@pytest.fixture
def runs(gate_suite, run_models, tmp_path):
    """``runs(**stored_suite_fields)``: (today's run, a stored run on the same held-out file whose suite.yaml has
    those fields instead)."""
    gold = gold_labels(N, LABELS)
    conf = 0.6 + 0.35 * np.random.default_rng(3).random(N)
    base = predictions(gold, LABELS, np.random.default_rng(7).random(N) < 0.85, conf)
    cand = predictions(gold, LABELS, np.random.default_rng(8).random(N) < 0.8, conf)
    today = run_models(gate_suite(gold, positive="pos"), {"base": base, "cand": cand}, out="today")

    def make(**fields):
        folder = gate_suite(gold, folder="stored-suite", **{"labels": LABELS, "positive": "pos", **fields})
        shutil.copy(tmp_path / "suite" / "heldout.jsonl", folder / "heldout.jsonl")  # the very same file
        return today, run_models(folder, {"base": base}, out="stored")

    return make


def gate(*args) -> int:
    return main(["gate", *map(str, args)])


@pytest.mark.parametrize("fields, field, words", [
    ({"positive": "neg"}, "suite.positive", "the positive class differs: 'pos' in"),
    ({"metric_options": {"beta": 2}}, "suite.metric_options.beta", "beta: not set in the run, 2 in the stored"),
    ({"metric_options": {"ece_bins": 5}}, "suite.metric_options.ece_bins", "the metric options differ"),
    ({"labels": ["neg", "pos", "other"]}, "suite.labels", "only in the stored baseline: other"),
])
def test_a_stored_baseline_that_measures_something_else_is_exit_2(runs, capsys, fields, field, words):
    today, stored = runs(**fields)
    capsys.readouterr()
    assert gate(today, "--candidate", "cand", "--baseline", stored, "--against", "base") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {stored}: {field}: "), err
    assert words in err and "\n" not in err


def test_labels_in_another_order_are_read_by_name(runs, tmp_path, capsys):
    today, stored = runs(labels=["pos", "neg"])
    assert json.loads((stored / "results.json").read_text())["suite"]["labels"][0]["name"] == "pos"
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {kind: regression, metric: accuracy}\n  - {kind: regression, metric: precision}\n"
                     "  - {kind: regression, metric: auroc}\n  - {kind: regression, metric: log_loss}\n")
    code = gate(today, "--candidate", "cand", "--baseline", stored, "--against", "base", "--rules", rules,
                "--json", tmp_path / "stored.json")
    assert code == gate(today, "--candidate", "cand", "--against", "base", "--rules", rules,
                        "--json", tmp_path / "same.json")
    stored_v = json.loads((tmp_path / "stored.json").read_text())["rules"]
    same_v = json.loads((tmp_path / "same.json").read_text())["rules"]
    for a, b in zip(stored_v, same_v, strict=True):
        assert a["delta"] == pytest.approx(b["delta"]) and a["verdict"] == b["verdict"]
        assert a["bounds"]["lower"] == pytest.approx(b["bounds"]["lower"])


def test_run_gate_refuses_a_stored_baseline_with_another_positive_class_before_scoring(gate_suite, run_models,
                                                                                      tmp_path, capsys):
    gold = gold_labels(N, LABELS)
    rows = predictions(gold, LABELS, np.ones(N, dtype=bool))
    other = gate_suite(gold, folder="prod-suite", positive="neg")
    stored = run_models(other, {"base": rows}, out="prod")
    suite = gate_suite(gold, positive="pos", gate={"baseline": str(stored), "against": "base"})
    shutil.copy(other / "heldout.jsonl", suite / "heldout.jsonl")
    file = tmp_path / "cand.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    capsys.readouterr()
    assert main(["run", str(suite), "--only", "--model", f"cand=predictions:{file}", "--out", str(tmp_path / "today"),
                 "--gate", "--no-report"]) == 2
    err = capsys.readouterr().err.strip()
    assert "suite.positive: the positive class differs" in err and "\n" not in err
    assert not (tmp_path / "today").exists()  # refused before anything was scored
