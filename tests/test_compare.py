"""Paired comparison statistics of a run (harness.compare) with the built-in metric plugins."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from harness.compare import CompareOptions, compare, comparison_pairs
from harness.metrics import MetricData, NotAvailable
from harness.plugins import load_registry
from harness.stats import generic_resampled, resample_counts


@pytest.fixture(scope="module")
def registry():
    return load_registry(entry_points=False)


def _model(rng, y, k, skill, n_invalid=0, nan_rows=0):
    n = len(y)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += skill
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = p.argmax(axis=1)
    pred[:n_invalid] = -1
    if nan_rows:
        p[n_invalid:n_invalid + nan_rows] = np.nan
    return pred, p


def _data(labels, y, pred, p, positive=None, options=None):
    return MetricData(tuple(labels), y, pred, p, positive, options or {"beta": 1.0, "ece_bins": 10})


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("nan_rows", [0, 7])
def test_fast_resamplers_equal_generic_bootstrap_on_the_same_resamples(registry, k, nan_rows):
    rng = np.random.default_rng(k + nan_rows)
    n = 150
    y = rng.integers(0, k, n)
    pred, p = _model(rng, y, k, 1.5, n_invalid=5, nan_rows=nan_rows)
    p = np.round(p, 2)  # ties in scores
    p[~np.isnan(p).any(axis=1)] /= p[~np.isnan(p).any(axis=1)].sum(axis=1, keepdims=True)
    data = _data([f"c{i}" for i in range(k)], y, pred, p, positive=1 if k == 2 else None)
    w = next(resample_counts(n, 40, seed=3))
    checked = 0
    for metric in registry.metrics.values():
        if metric.name == "ece":  # its draws estimate the sampling distribution (tests/test_calibration_error.py)
            continue
        try:
            fast = metric.resampler(data)
        except NotAvailable:
            continue
        if fast is None:
            continue

        def one(idx, metric=metric):
            try:
                return float(metric.compute(data.take(idx)))
            except NotAvailable:
                return float("nan")

        expected = generic_resampled(one)(w)
        np.testing.assert_allclose(fast(w), expected, rtol=0, atol=1e-9, err_msg=metric.name)
        checked += 1
    assert checked >= (8 if k == 2 else 5)


def test_pairs_are_each_model_against_the_baseline_plus_named_pairs():
    assert comparison_pairs(["base", "a", "b"], "base", [("a", "b"), ("b", "a")]) == [
        ("a", "base"), ("b", "base"), ("a", "b")]


def _three_models(seed=0, n=400):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    out = {}
    for name, skill in (("base", 0.5), ("ft", 2.0), ("ckpt", 1.9)):
        pred, p = _model(rng, y, 2, skill)
        out[name] = _data(["neg", "pos"], y, pred, p, positive=1)
    return out


def test_compare_reports_intervals_deltas_holm_and_cochran(registry):
    models = _three_models()
    metrics = [registry.metrics[m] for m in ("accuracy", "fbeta", "auroc", "auprc", "log_loss", "ece")]
    intervals, comp = compare(models, metrics, "base", CompareOptions(n_resamples=300, seed=1))
    for name, data in models.items():
        acc = accuracy_score(data.y_true, data.y_pred)
        iv = intervals[name]["accuracy"]
        assert iv["method"] == "wilson" and iv["low"] < acc < iv["high"]
        assert intervals[name]["auroc"]["method"] == "delong"
        assert intervals[name]["fbeta"]["low"] <= intervals[name]["fbeta"]["high"]
    assert [(p["a"], p["b"]) for p in comp["pairs"]] == [("ft", "base"), ("ckpt", "base")]
    ft = comp["pairs"][0]["metrics"]
    assert ft["accuracy"]["method"].startswith("mcnemar")
    assert ft["auroc"]["method"].startswith("delong")
    assert ft["fbeta"]["method"] == "paired-bootstrap"
    assert ft["accuracy"]["delta"] > 0 and ft["accuracy"]["low"] > 0 and ft["accuracy"]["p_value"] < 0.001
    for pair in comp["pairs"]:
        for row in pair["metrics"].values():
            assert row["p_adjusted"] >= row["p_value"] - 1e-15
    assert comp["correction"] == "holm"
    assert comp["omnibus"]["test"] == "cochran-q" and comp["omnibus"]["df"] == 2
    assert 0 < comp["pairs"][0]["mde_accuracy"] < 1


def test_identical_models_give_p_one_and_zero_delta(registry):
    models = _three_models()
    same = {"a": models["ft"], "b": models["ft"]}
    metrics = [registry.metrics[m] for m in ("accuracy", "fbeta", "auroc", "auprc", "brier")]
    _, comp = compare(same, metrics, "a", CompareOptions(n_resamples=200))
    for name, row in comp["pairs"][0]["metrics"].items():
        assert row["delta"] == 0, name
        assert row["p_value"] == 1.0, name


def test_seeded_and_reproducible(registry):
    models = _three_models()
    metrics = [registry.metrics["fbeta"], registry.metrics["auprc"]]
    one = compare(models, metrics, "base", CompareOptions(n_resamples=200, seed=7))
    two = compare(models, metrics, "base", CompareOptions(n_resamples=200, seed=7))
    other = compare(models, metrics, "base", CompareOptions(n_resamples=200, seed=8))
    assert one == two
    assert one[1]["pairs"][0]["metrics"]["fbeta"] != other[1]["pairs"][0]["metrics"]["fbeta"]
    assert one[1]["seed"] == 7


def test_unavailable_metric_is_reported_not_tested(registry):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    a = _data(["n", "p"], y, y.copy(), None, positive=1)
    b = _data(["n", "p"], y, 1 - y, None, positive=1)
    _, comp = compare({"a": a, "b": b}, [registry.metrics["auroc"], registry.metrics["accuracy"]], "b")
    row = comp["pairs"][0]["metrics"]["auroc"]
    assert row["delta"] is None and "probabilities" in row["reason"]
    assert comp["pairs"][0]["metrics"]["accuracy"]["delta"] == 1.0


# --- in a run ---------------------------------------------------------------------------------------


def _run_demo(harness_cli, out, *extra):
    res = harness_cli("run", "baseball-hockey", "--out", out, "--no-report", "--bootstrap", "200", *extra)
    assert res.code == 0, res.err
    return json.loads((out / "results.json").read_text())


def test_run_writes_intervals_and_comparisons(harness_cli, tmp_path):
    r = _run_demo(harness_cli, tmp_path / "a", "--seed", "3")
    comp = r["comparisons"]
    assert comp["n_resamples"] == 200 and comp["seed"] == 3 and comp["alpha"] == 0.05
    assert comp["correction"] == "holm" and comp["omnibus"]["test"] == "cochran-q"
    names = [m["name"] for m in r["models"]]
    pairs = [(p["a"], p["b"]) for p in comp["pairs"]]
    assert pairs[:len(names) - 1] == [(n, r["baseline"]) for n in names if n != r["baseline"]]
    assert ("job/final", "job/ckpt-step-22") in pairs  # the suite's extra pair
    for m in r["models"]:
        for name, value in m["metrics"].items():
            if value["value"] is not None:
                iv = m["intervals"][name]
                assert iv["low"] <= value["value"] + 1e-12 and value["value"] <= iv["high"] + 1e-12, name
    final = next(p for p in comp["pairs"] if p["a"] == "job/final" and p["b"] == "job/base")
    assert final["metrics"]["accuracy"]["p_adjusted"] < 0.001  # fine-tuning clearly helps on the demo


def test_same_seed_same_numbers_and_no_stats_option(harness_cli, tmp_path):
    one = _run_demo(harness_cli, tmp_path / "a", "--seed", "5")
    two = _run_demo(harness_cli, tmp_path / "b", "--seed", "5")
    assert one["comparisons"] == two["comparisons"]
    assert [m["intervals"] for m in one["models"]] == [m["intervals"] for m in two["models"]]
    none = _run_demo(harness_cli, tmp_path / "c", "--no-stats")
    assert "comparisons" not in none and all("intervals" not in m for m in none["models"])


def test_unknown_model_in_comparisons_fails_before_scoring(harness_cli, make_suite, tmp_path, monkeypatch):
    from harness_testkit import toy_pairs

    root = make_suite(models={"a": "demo:base", "b": "demo:finetuned"}, train=toy_pairs(60, seed=2),
                      comparisons=[["a", "nope"]])
    import harness.runner.pipeline as runner

    monkeypatch.setattr(runner, "_score", lambda *a, **k: pytest.fail("scored before checking the suite"))
    res = harness_cli("run", root, "--out", tmp_path / "o")
    assert res.code == 2
    assert "suite.yaml:" in res.err and "comparisons[0][1]" in res.err and "nope" in res.err


def test_report_shows_the_comparisons(harness_cli, tmp_path):
    _run_demo(harness_cli, tmp_path / "a")
    res = harness_cli("report", tmp_path / "a" / "results.json")
    assert res.code == 0, res.err
    html = (tmp_path / "a" / "report.html").read_text()
    assert "job/final" in html and ("Holm" in html or "holm" in html)


def test_terminal_summary_marks_significant_deltas(harness_cli, tmp_path):
    res = harness_cli("run", "baseball-hockey", "--out", tmp_path / "a", "--no-report", "--bootstrap", "200")
    assert res.code == 0, res.err
    assert "paired comparisons" in res.out and "job/final vs job/base" in res.out
    header = next(x for x in res.out.splitlines() if "A vs B" in x)
    line = next(x for x in res.out.splitlines() if "job/final vs job/base" in x)
    cells = dict(zip([c.strip() for c in header.split("┃")], [c.strip() for c in line.split("│")]))
    for metric in ("accuracy", "auroc", "log_loss", "brier"):  # fine-tuning is significantly better
        assert cells[metric].endswith("▲"), (metric, cells[metric])
    quiet = harness_cli("run", "baseball-hockey", "--out", tmp_path / "b", "--no-report", "--no-stats")
    assert quiet.code == 0 and "paired comparisons" not in quiet.out


def test_the_mde_is_the_exact_one_harness_plan_uses_and_null_when_nothing_is_detectable(registry):
    # A run's MDE column and `harness plan RESULTS` are one computation (the exact power of the mid-p McNemar
    # test); two models that disagree on 5 of 338 examples cannot show any accuracy difference at 80% power, so
    # the MDE is null, not a number larger than their disagreement (Connor's approximation said 0.023 here).
    from harness.stats.samplesize import detectable_difference, paired_mde

    rng = np.random.default_rng(4)
    n = 338
    y = rng.integers(0, 2, n)
    base = np.where(rng.random(n) < 0.7, y, 1 - y)
    close = base.copy()
    close[np.flatnonzero(base == y)[:3]] ^= 1  # 3 broken
    close[np.flatnonzero(base != y)[:2]] ^= 1  # 2 fixed: 5 disagreements
    far = np.where(rng.random(n) < 0.9, y, 1 - y)
    models = {name: _data(["neg", "pos"], y, pred, None) for name, pred in
              (("base", base), ("close", close), ("far", far))}
    _, comp = compare(models, [registry.metrics["accuracy"]], "base", CompareOptions(n_resamples=100))
    pairs = {p["a"]: p for p in comp["pairs"]}
    assert pairs["close"]["discordant"] == {"a_only": 2, "b_only": 3} and pairs["close"]["mde_accuracy"] is None
    alpha = comp["mde"]["alpha"]
    assert alpha == pytest.approx(0.05 / 2)
    disc = sum(pairs["far"]["discordant"].values()) / n
    assert pairs["far"]["mde_accuracy"] == pytest.approx(paired_mde(n, disc, 0.8, alpha))
    assert detectable_difference(n, 5 / n, 0.8, alpha) is None and 0 < pairs["far"]["mde_accuracy"] < disc
