"""``harness run`` on the bundled demo suites, ``harness report`` and ``harness demo``, end to end."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from harness_testkit import read_jsonl

import harness
from harness.cli.main import main
from harness.suite import bundled_suites_dir, load_suite

SUITES = ("baseball-hockey", "support-tickets")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each bundled suite run once with its own (demo) models (the report only for the first: it is slow)."""
    out = tmp_path_factory.mktemp("e2e")
    assert main(["run", "baseball-hockey", "--out", str(out / "baseball-hockey")]) == 0
    assert main(["run", "support-tickets", "--out", str(out / "support-tickets"), "--no-report"]) == 0
    return {name: out / name for name in SUITES}


def results(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text(encoding="utf-8"))


def model(res: dict, name: str) -> dict:
    return next(m for m in res["models"] if m["name"] == name)


def test_results_json_schema(runs):
    res = results(runs["baseball-hockey"])
    suite = load_suite("baseball-hockey")
    assert res["format"] == "harness.results" and res["schema_version"] == 2
    assert res["harness_version"] == harness.__version__
    assert res["suite"]["name"] == "baseball-hockey"
    assert res["suite"]["task"] == "binary" and res["suite"]["positive"] == "hockey"
    assert [lab["name"] for lab in res["suite"]["labels"]] == ["baseball", "hockey"]
    dataset = res["suite"]["dataset"]
    assert dataset["sha256"] == hashlib.sha256(suite.data_path("heldout").read_bytes()).hexdigest()
    assert dataset["n_examples"] == len(suite.heldout) and dataset["format"] == "openai-jsonl"
    assert res["predictions"] == {"path": "predictions.jsonl", "rows": 7 * len(suite.heldout)}
    for key in ("load_seconds", "predict_seconds", "metrics_seconds", "total_seconds"):
        assert res["timings"][key] >= 0
    assert [m["name"] for m in res["metrics"]] == suite.metric_names
    for m in res["metrics"]:
        assert {"name", "title", "description", "higher_is_better", "needs_proba", "plugin"} <= set(m)
    names = [m["name"] for m in res["models"]]
    assert names[5:] == ["embeddings", "zero-shot"]  # the baselines every fine-tune must beat (docs/embeddings.md)
    names = names[:5]
    assert names[0] == "job/base" and names[-1] == "job/final"
    assert res["baseline"] == "job/base"
    for m in res["models"]:
        assert m["counts"] == {"n": len(suite.heldout), "ok": len(suite.heldout), "invalid": 0, "failed": 0,
                               "flagged": 0}
        assert set(m["metrics"]) == set(suite.metric_names)
        for v in m["metrics"].values():
            assert isinstance(v["value"], float)
        assert m["timing"]["seconds"] >= 0
    training = res["training"]["job"]
    assert training["base_model"] == "job/base"
    assert [c["model"] for c in training["checkpoints"]] == names[1:]
    assert len(training["curves"]["train_loss"]) > 10


@pytest.mark.parametrize("name", SUITES)
def test_predictions_aligned_by_id(runs, name):
    res = results(runs[name])
    suite = load_suite(name)
    expected = [(ex.id, ex.label) for ex in suite.heldout.examples]
    rows = read_jsonl(runs[name] / res["predictions"]["path"])
    assert len(rows) == res["predictions"]["rows"]
    for m in res["models"]:
        mine = [r for r in rows if r["model"] == m["name"]]
        assert [(r["id"], r["gold"]) for r in mine] == expected  # every model has every example, in order
        for r in mine:
            assert r["status"] == "ok" and r["pred"] in suite.labels
            assert set(r["probs"]) == set(suite.labels) and sum(r["probs"].values()) == pytest.approx(1)
        accuracy = sum(r["pred"] == r["gold"] for r in mine) / len(mine)
        assert m["metrics"]["accuracy"]["value"] == pytest.approx(accuracy)


def test_report_html_written(runs):
    html = (runs["baseball-hockey"] / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "baseball-hockey" in html
    for m in results(runs["baseball-hockey"])["models"]:
        assert m["name"] in html
    assert not (runs["support-tickets"] / "report.html").exists()  # --no-report


@pytest.mark.parametrize("name", SUITES)
def test_finetuned_beats_base(runs, name):
    """What the demo is for: the fine-tuned model is clearly better than the base model."""
    res = results(runs[name])
    base, final = model(res, "job/base")["metrics"], model(res, "job/final")["metrics"]
    assert final["accuracy"]["value"] > base["accuracy"]["value"] + 0.05
    assert final["log_loss"]["value"] < base["log_loss"]["value"]


def test_runs_are_deterministic(runs, tmp_path):
    assert main(["run", "baseball-hockey", "--out", str(tmp_path), "--no-report"]) == 0
    again, first = results(tmp_path), results(runs["baseball-hockey"])
    assert [m["metrics"] for m in again["models"]] == [m["metrics"] for m in first["models"]]
    assert (tmp_path / "predictions.jsonl").read_bytes() == (runs["baseball-hockey"] / "predictions.jsonl").read_bytes()


def test_named_demo_models(harness_cli, tmp_path):
    out = tmp_path / "o"
    res = harness_cli("run", "support-tickets", "--model", "base=demo:base", "--model", "ft=demo:finetuned",
                      "--only", "--metric", "accuracy", "--out", out, "--no-report")
    assert res.code == 0, res.err
    r = results(out)
    assert [m["name"] for m in r["models"]] == ["base", "ft"]
    assert model(r, "ft")["metrics"]["accuracy"]["value"] > model(r, "base")["metrics"]["accuracy"]["value"]


def test_summary_table_printed(harness_cli, tmp_path):
    res = harness_cli("run", "baseball-hockey", "--out", tmp_path, "--no-report", "--metric", "accuracy")
    assert res.code == 0
    assert "job/final" in res.out and "accuracy" in res.out and "results.json" in res.out
    assert not (tmp_path / "report.html").exists()  # --no-report


# --- harness report ------------------------------------------------------------------------------


def test_report_rerenders_without_models_or_data(harness_cli, tmp_path, monkeypatch):
    """``harness report`` needs only results.json and predictions.jsonl: no provider, no suite data."""
    suite = tmp_path / "suite"
    shutil.copytree(bundled_suites_dir() / "baseball-hockey", suite)
    out = tmp_path / "run"
    assert harness_cli("run", suite, "--out", out, "--no-report").code == 0
    shutil.rmtree(suite)

    def forbidden(*args, **kwargs):
        raise AssertionError("harness report must not load data or call a model")

    import harness.datasets
    import harness.providers

    monkeypatch.setattr(harness.providers.Provider, "resolve", forbidden)
    monkeypatch.setattr(harness.providers.LocalModel, "predict_all", forbidden)
    monkeypatch.setattr(harness.providers.RequestModel, "predict", forbidden)
    monkeypatch.setattr(harness.datasets, "load_dataset", forbidden)

    res = harness_cli("report", out / "results.json")
    assert res.code == 0, res.err
    html = (out / "report.html").read_text(encoding="utf-8")
    for m in results(out)["models"]:
        assert m["name"] in html


# --- harness demo --------------------------------------------------------------------------------


def test_demo_command(harness_cli, tmp_path):
    res = harness_cli("demo", "--out", tmp_path)
    assert res.code == 0, res.err
    for name in SUITES:
        assert (tmp_path / name / "results.json").is_file()
        assert (tmp_path / name / "report.html").is_file()
