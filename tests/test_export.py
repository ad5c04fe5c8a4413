"""``harness export`` and ``harness.frames``: results.json as tables a spreadsheet or notebook can use."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from harness_testkit import read_jsonl, toy_pairs

from harness.cli.main import main
from harness.frames import load_frames, spreadsheet_safe


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "bh"
    assert main(["run", "baseball-hockey", "--out", str(out), "--no-report", "--progress", "off"]) == 0
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_export_writes_every_table_matching_results_json(demo_run: Path, harness_cli) -> None:
    res = json.loads((demo_run / "results.json").read_text(encoding="utf-8"))
    r = harness_cli("export", demo_run, "--out", demo_run / "tables")
    assert r.code == 0, r.err
    for name in ("metrics", "comparisons", "predictions", "training"):
        assert f"{name}.csv" in r.out

    metrics = {row["model"]: row for row in read_csv(demo_run / "tables" / "metrics.csv")}
    assert list(metrics) == [m["name"] for m in res["models"]]
    for m in res["models"]:
        row = metrics[m["name"]]
        assert float(row["accuracy"]) == pytest.approx(m["metrics"]["accuracy"]["value"], abs=1e-12)
        assert float(row["auroc_low"]) == pytest.approx(m["intervals"]["auroc"]["low"], abs=1e-12)
        assert int(row["n"]) == m["counts"]["n"]
        assert row["baseline"] == str(m["name"] == res["baseline"])

    comparisons = read_csv(demo_run / "tables" / "comparisons.csv")
    pairs = res["comparisons"]["pairs"]
    assert len(comparisons) == sum(len(p["metrics"]) for p in pairs)
    # the suite's extra pair: final vs epoch 2 — exported with its adjusted p-value and a verdict
    row = next(c for c in comparisons if (c["a"], c["b"], c["metric"]) == ("job/final", "job/ckpt-step-22", "accuracy"))
    stats = next(p for p in pairs if (p["a"], p["b"]) == ("job/final", "job/ckpt-step-22"))["metrics"]["accuracy"]
    assert float(row["p_adjusted"]) == pytest.approx(stats["p_adjusted"])
    assert row["significant"] == str(stats["p_adjusted"] < res["comparisons"]["alpha"])

    preds = read_csv(demo_run / "tables" / "predictions.csv")
    rows = read_jsonl(demo_run / "predictions.jsonl")
    assert len(preds) == len(rows)
    assert [(p["model"], p["id"], p["pred"]) for p in preds] == [(r["model"], r["id"], r["pred"]) for r in rows]
    assert float(preds[0]["p_hockey"]) == pytest.approx(rows[0]["probs"]["hockey"])

    training = read_csv(demo_run / "tables" / "training.csv")
    assert len(training) == len(res["training"]["job"]["curves"]["step"])


def test_better_side_respects_metric_direction(demo_run: Path) -> None:
    frames = load_frames(demo_run)
    comp = frames.comparisons
    sig = comp[comp["significant"]]
    assert not sig.empty
    for _, row in sig.iterrows():
        lower_is_better = row["metric"] in ("log_loss", "brier", "ece")
        a_better = (row["delta"] < 0) if lower_is_better else (row["delta"] > 0)
        assert row["better"] == (row["a"] if a_better else row["b"])
    assert comp.loc[~comp["significant"], "better"].isna().all()


def test_hostile_text_cannot_become_a_spreadsheet_formula(make_suite, harness_cli, tmp_path: Path) -> None:
    pairs = toy_pairs(30, seed=3)
    ids = [f"=HYPERLINK(\"http://evil.invalid/?{i}\")" if i % 2 else f"@SUM({i})" for i in range(len(pairs))]
    suite = make_suite(pairs, ids=ids, train=toy_pairs(40, seed=4), models={"m": "demo:base"})
    out = tmp_path / "out"
    assert harness_cli("run", suite, "--out", out, "--no-report", "--no-stats").code == 0
    assert harness_cli("export", out).code == 0
    cells = [row["id"] for row in read_csv(out / "predictions.csv")]
    assert cells and all(c.startswith("'=") or c.startswith("'@") for c in cells)
    assert harness_cli("export", out, "--raw", "--format", "tsv").code == 0
    with (out / "predictions.tsv").open(encoding="utf-8", newline="") as fh:
        raw = [row["id"] for row in csv.DictReader(fh, delimiter="\t")]
    assert raw == ids


def test_spreadsheet_safe_leaves_numbers_and_plain_text_alone() -> None:
    frame = pd.DataFrame({"t": ["-1", "+0.5", "-2+3", "=1", "plain", None, "\tx"], "x": [1, -2, 3, 4, 5, 6, 7]})
    safe = spreadsheet_safe(frame)
    values = safe["t"].tolist()
    assert values[:5] + values[6:] == ["-1", "+0.5", "'-2+3", "'=1", "plain", "'\tx"]
    assert pd.isna(values[5])
    assert safe["x"].tolist() == frame["x"].tolist()


def test_export_of_a_missing_file_is_one_line(harness_cli, tmp_path: Path) -> None:
    r = harness_cli("export", tmp_path / "nothing" / "results.json")
    assert r.code == 2 and r.err.count("\n") == 1 and "results.json" in r.err and "Traceback" not in r.err
