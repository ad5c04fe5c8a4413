"""Issue 9, item 1: a model that never answered (404 for every request) is not scored, never shown as
0.0000, and is left out of the comparisons with a note; the other model's results are unaffected."""

from __future__ import annotations

import json

from fakes.openai_server import logprobs_of
from openai_testkit import SEP, write_suite

from harness.cli.main import main

TEXTS = [f"post number {i} about {'pitching' if i % 2 else 'skating'}" for i in range(24)]
GOLD = ["baseball" if i % 2 else "hockey" for i in range(24)]
ROWS = [(f"ex{i:02d}", t, g) for i, (t, g) in enumerate(zip(TEXTS, GOLD))]


def test_a_model_that_never_answered_is_not_scored(fake, tmp_path, capsys) -> None:
    for i, (text, gold) in enumerate(zip(TEXTS, GOLD)):
        right = 0.8 if i % 4 else 0.3
        top = {"base": right, "h": 1 - right} if gold == "baseball" else {"h": right, "base": 1 - right}
        fake.script(text + SEP, logprobs_of(top))
    fake.missing_models.add("no-such-model")
    out = tmp_path / "out"
    code = main(["run", str(write_suite(tmp_path / "s", ROWS)), "--only", "--model", "good=openai:base-model",
                 "--model", "x=openai:no-such-model", "--out", str(out), "--progress", "off", "--no-report",
                 "--bootstrap", "200"])
    captured = capsys.readouterr()
    assert code == 3, captured.err  # a provider failed; the other model's results are written
    results = json.loads((out / "results.json").read_text())
    x = next(m for m in results["models"] if m["name"] == "x")
    good = next(m for m in results["models"] if m["name"] == "good")
    assert x["scored"] is False and "answered none of the 24" in x["not_scored_reason"]
    for name, value in x["metrics"].items():
        assert value["value"] is None and "answered none" in value["reason"], name
    assert all(v["value"] is not None for v in good["metrics"].values() if v.get("reason") is None)
    assert good["metrics"]["accuracy"]["value"] > 0.5
    comp = results["comparisons"]
    assert comp["pairs"] == []  # nothing to compare: x is not scored
    assert [(s["a"], s["b"]) for s in comp["skipped"]] == [("x", "good")]
    assert "x is not scored" in comp["skipped"][0]["reason"]
    summary = captured.out
    x_row = next(line for line in summary.splitlines() if line.startswith("│ x "))
    assert "0.0000" not in x_row and "n/a" in x_row
    assert "paired comparisons" not in summary  # no table of deltas against a model that never answered
    assert "not compared: x vs good — x is not scored" in summary and "x: not scored" in summary


def test_the_report_says_the_model_is_not_scored(fake, tmp_path, capsys) -> None:
    fake.missing_models.add("no-such-model")
    for text in TEXTS:
        fake.script(text + SEP, logprobs_of({"base": 0.6, "h": 0.4}))
    out = tmp_path / "out"
    code = main(["run", str(write_suite(tmp_path / "s", ROWS)), "--only", "--model", "good=openai:base-model",
                 "--model", "x=openai:no-such-model", "--out", str(out), "--progress", "off", "--bootstrap", "100"])
    assert code == 3, capsys.readouterr().err
    html = (out / "report.html").read_text()
    assert "x is not scored: the model answered none of the 24 examples" in html
    assert "they count as wrong" not in html.split("x is not scored")[0].split('id="glance"')[-1]
