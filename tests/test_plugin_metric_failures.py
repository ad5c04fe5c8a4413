"""A metric plugin whose code raises (a bug, not NotAvailable) costs that metric, never the run: the metric is
null with a reason naming the plugin and the error, the other metrics and every file are written, and a notice
says so (acceptance finding 11; the rule is in docs/plugins.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PLUGIN = '''
from harness import hookimpl
from harness.metrics import Metric


class Raiser(Metric):
    name = "raiser"
    title = "Raiser"

    def compute(self, data):
        raise ZeroDivisionError("boom in compute")


class BadTest(Metric):
    name = "bad_test"
    title = "Bad test"

    def compute(self, data):
        return float((data.y_pred == data.y_true).mean())

    def interval(self, data, alpha):
        raise RuntimeError("boom in interval")

    def paired_test(self, a, b, alpha):
        raise KeyError("boom in paired_test")


@hookimpl
def register_metrics(register):
    register(Raiser())
    register(BadTest())
'''


def _suite(tmp_path: Path) -> Path:
    root = tmp_path / "suite"
    root.mkdir()
    (root / "suite.yaml").write_text("data: {heldout: heldout.csv}\nlabels: [neg, pos]\n", encoding="utf-8")
    rows = [(f"e{i}", "neg" if i % 2 else "pos") for i in range(40)]
    (root / "heldout.csv").write_text("id,text,label\n" + "".join(f"{i},text {i},{lab}\n" for i, lab in rows),
                                      encoding="utf-8")
    for name, flip in (("a", 3), ("b", 5)):
        (root / f"{name}.jsonl").write_text("".join(
            json.dumps({"id": i, "label": ("pos" if lab == "neg" else "neg") if k % flip == 0 else lab}) + "\n"
            for k, (i, lab) in enumerate(rows)), encoding="utf-8")
    return root


@pytest.fixture
def run_with_bad_plugin(harness_cli, tmp_path):
    suite = _suite(tmp_path)
    plugin = tmp_path / "bad_metrics.py"
    plugin.write_text(PLUGIN, encoding="utf-8")
    out = tmp_path / "out"
    res = harness_cli("run", suite, "--model", f"a=predictions:{suite / 'a.jsonl'}", "--model",
                      f"b=predictions:{suite / 'b.jsonl'}", "--plugin", plugin, "--metric", "accuracy", "--metric",
                      "raiser", "--metric", "bad_test", "--out", out, "--progress", "off")
    return res, out


def test_a_metric_whose_compute_raises_is_null_with_the_plugin_and_error_named(run_with_bad_plugin):
    res, out = run_with_bad_plugin
    assert res.code == 0, res.err
    assert "internal error" not in res.err
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for model in results["models"]:
        raiser = model["metrics"]["raiser"]
        assert raiser["value"] is None
        assert "ZeroDivisionError" in raiser["reason"] and "boom in compute" in raiser["reason"]
        assert "bad_metrics" in raiser["reason"]  # the plugin (a local file) is named
        assert model["metrics"]["accuracy"]["value"] is not None  # the other metrics are intact
    assert "raiser" in res.err and "ZeroDivisionError" in res.err  # said on the terminal
    assert any("raiser" in n for n in results["engine"]["notices"])
    assert (out / "predictions.jsonl").is_file() and (out / "report.html").is_file()


def test_statistics_hooks_that_raise_leave_the_value_and_null_the_statistic(run_with_bad_plugin):
    res, out = run_with_bad_plugin
    assert res.code == 0, res.err
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert all(m["metrics"]["bad_test"]["value"] is not None for m in results["models"])
    pair = results["comparisons"]["pairs"][0]["metrics"]["bad_test"]
    assert pair["delta"] is not None
    assert pair["p_value"] is None and "KeyError" in pair["reason"] and "paired_test" in pair["reason"]
