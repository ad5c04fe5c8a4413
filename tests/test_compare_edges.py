"""Issue 9: every number right or marked unavailable at the edges — undefined metrics, pairs whose rows differ
from the other models', one-hot against soft probabilities, a single positive, many comparisons, calibration.

Each test reproduces one defect of the issue (the item number is in the docstring) and fails on the code
before the fix. Simulations are seeded, so they are deterministic."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.compare import CompareOptions, compare
from harness.metrics import MetricData, evaluate
from harness.plugins import load_registry

LABELS = ("neg", "pos")


@pytest.fixture(scope="module")
def registry():
    return load_registry(entry_points=False)


def binary(y, p_pos, pred=None, options=None):
    p = np.asarray(p_pos, dtype=float)
    proba = np.column_stack([1 - p, p])
    if pred is None:
        pred = np.where(np.isnan(p), -1, (p > 0.5).astype(int))
    return MetricData(LABELS, np.asarray(y), np.asarray(pred), proba, 1, options or {"ece_bins": 10, "beta": 1.0})


def soft(rng, y, skill):
    logit = skill * (2 * y - 1) + rng.normal(size=y.size)
    return 1 / (1 + np.exp(-logit))


def test_undefined_precision_is_null_with_a_reason_everywhere(registry):
    """Item 2: a model that never predicts the positive class had precision 0.0000 [0.000, 0.000] and a
    'significant' +0.84 comparison; precision is 0/0 there: not available, in metrics, intervals and tests."""
    rng = np.random.default_rng(2)
    y = (rng.random(120) < 0.4).astype(int)
    good = binary(y, np.where(y == 1, 0.8, 0.2))
    never = binary(y, np.full(120, 0.3))
    metrics = [registry.metrics[m] for m in ("precision", "recall", "fbeta", "accuracy")]
    value = evaluate(registry.metrics["precision"], never)
    assert value.value is None and "predicted positive" in value.reason
    intervals, comp = compare({"good": good, "never": never}, metrics, "never", CompareOptions(n_resamples=200))
    iv = intervals["never"]["precision"]
    assert iv["low"] is None and iv["high"] is None and iv["reason"]
    row = comp["pairs"][0]["metrics"]["precision"]
    assert row["delta"] is None and row["p_value"] is None and "not available for never" in row["reason"]
    assert comp["pairs"][0]["metrics"]["recall"]["value_b"] == 0.0  # recall is defined: every positive missed
    assert comp["pairs"][0]["metrics"]["recall"]["delta"] == pytest.approx(1.0)


def _three(seed=3, n=300, partial=20):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    a = binary(y, soft(rng, y, 1.3))
    b = binary(y, soft(rng, y, 1.0))
    pc = soft(rng, y, 1.5)
    pc[partial:] = np.nan  # probabilities on 20 of the 300 rows only
    pred_c = np.where(rng.random(n) < 0.8, y, 1 - y)
    return a, b, binary(y, pc, pred=pred_c)


PROBA_METRICS = ("auroc", "auprc", "log_loss", "brier", "ece")


def test_a_pair_does_not_depend_on_the_other_models(registry):
    """Item 3: a third model with probabilities on 20 of 300 rows moved the AUROC comparison of A and B (all
    probability metrics were restricted to the rows every model scored). Now each pair uses the rows both of
    its models can be scored on, records that n, and delta == value_a - value_b on exactly those rows."""
    a, b, c = _three()
    metrics = [registry.metrics[m] for m in ("accuracy", "fbeta", *PROBA_METRICS)]
    opts = CompareOptions(n_resamples=300, seed=4)
    _, two = compare({"a": a, "b": b}, metrics, "b", opts)
    _, three = compare({"a": a, "b": b, "c": c}, metrics, "b", opts)
    ab2 = two["pairs"][0]
    ab3 = next(p for p in three["pairs"] if (p["a"], p["b"]) == ("a", "b"))
    for name, row in ab2["metrics"].items():
        other = ab3["metrics"][name]
        assert row["n"] == other["n"] == 300, name
        for key in ("value_a", "value_b", "delta", "low", "high", "p_value"):
            assert other[key] == pytest.approx(row[key], rel=1e-9, abs=1e-12), (name, key)
    for pair in three["pairs"]:
        da, db = {"a": a, "b": b, "c": c}[pair["a"]], {"a": a, "b": b, "c": c}[pair["b"]]
        for met in metrics:
            row = pair["metrics"][met.name]
            rows = da.has_proba() & db.has_proba() if met.needs_proba else np.ones(da.n, dtype=bool)
            sa, sb = da.take(rows), db.take(rows)
            assert row["n"] == sa.n
            va, vb = evaluate(met, sa).value, evaluate(met, sb).value
            assert (row["value_a"], row["value_b"]) == pytest.approx((va, vb), abs=1e-12)
            assert row["delta"] == pytest.approx(va - vb, abs=1e-12)
    assert next(p for p in three["pairs"] if p["a"] == "c")["metrics"]["auroc"]["n"] == 20


def test_bootstrap_p_values_agree_with_their_intervals_in_a_run(registry):
    """Item 8 at the run level: 'not significant' never comes with an interval that excludes 0."""
    for seed in range(6):
        rng = np.random.default_rng([8, seed])
        y = (rng.random(200) < 0.15).astype(int)
        models = {f"m{i}": binary(y, soft(rng, y, s)) for i, s in enumerate((1.0, 1.2, 1.25, 1.4))}
        metrics = [registry.metrics[m] for m in ("auprc", "fbeta", "brier")]
        _, comp = compare(models, metrics, "m0", CompareOptions(n_resamples=199, seed=seed))
        for pair in comp["pairs"]:
            for row in pair["metrics"].values():
                if row["method"] == "paired-bootstrap":
                    excludes = row["low"] > 0 or row["high"] < 0
                    assert (row["p_value"] < 0.05) == excludes, row


def test_one_hot_against_soft_is_paired_and_has_its_nominal_size(registry):
    """Item 4: a one-hot model's Brier statistic was drawn from the cell-multinomial stream and the soft
    model's from the example stream, so the 'paired' differences came from unrelated resamples (intervals
    about 3x too wide, a test that almost never rejects). Seeded null simulation: the soft model is calibrated
    (Brier = E[q(1-q)] = 1/6), the one-hot model knows the label on a third of the examples and rounds q
    elsewhere (Brier = 2/3 · 1/4 = 1/6): equal Brier scores, so the test must reject about 5% of the time."""
    brier = registry.metrics["brier"]
    n, reps = 200, 500
    rejected = 0
    for r in range(reps):
        rng = np.random.default_rng([44, r])
        q = rng.random(n)
        y = (rng.random(n) < q).astype(int)
        hard = np.where(rng.random(n) < 1 / 3, y, (q > 0.5).astype(int)).astype(float)
        _, comp = compare({"hard": binary(y, hard), "soft": binary(y, q)}, [brier], "soft",
                          CompareOptions(n_resamples=200, seed=r))
        rejected += comp["pairs"][0]["metrics"]["brier"]["p_value"] < 0.05
    assert 0.03 <= rejected / reps <= 0.07


def test_one_hot_and_soft_statistics_come_from_the_same_resamples(registry):
    """Item 4, directly: the paired interval of the Brier difference is as narrow as a truly paired
    bootstrap (the same resampled examples for both models) gives."""
    from harness.compare import resampler
    from harness.stats.bootstrap import bootstrap_draws

    rng = np.random.default_rng(5)
    q = rng.random(400)
    y = (rng.random(400) < q).astype(int)
    hard, smooth = binary(y, (q > 0.5).astype(float)), binary(y, q)
    brier = registry.metrics["brier"]
    _, comp = compare({"hard": hard, "soft": smooth}, [brier], "soft", CompareOptions(n_resamples=400, seed=1))
    row = comp["pairs"][0]["metrics"]["brier"]
    d = bootstrap_draws({"a": resampler(brier, hard), "b": resampler(brier, smooth)}, 400, 400, 1)
    paired = np.quantile(d["a"] - d["b"], [0.025, 0.975])
    assert row["high"] - row["low"] == pytest.approx(paired[1] - paired[0], rel=0.1)


def test_a_single_positive_example_never_crashes(registry, harness_cli, make_suite, tmp_path):
    """Item 5: one positive among the scored rows made delong_auc raise ValueError ('internal error', exit
    1, no comparisons). The AUROC interval and test are now not available, with the reason."""
    rng = np.random.default_rng(9)
    y = np.zeros(40, dtype=int)
    y[7] = 1
    a, b = binary(y, rng.random(40)), binary(y, rng.random(40))
    metrics = [registry.metrics[m] for m in ("auroc", "accuracy", "auprc")]
    intervals, comp = compare({"a": a, "b": b}, metrics, "b", CompareOptions(n_resamples=100))
    assert intervals["a"]["auroc"]["low"] is None and "2 positive" in intervals["a"]["auroc"]["reason"]
    row = comp["pairs"][0]["metrics"]["auroc"]
    assert row["delta"] == pytest.approx(row["value_a"] - row["value_b"]) and row["p_value"] is None
    assert "2 positive" in row["reason"]
    assert comp["pairs"][0]["metrics"]["accuracy"]["p_value"] is not None

    # end to end: two failed requests leave one positive among the rows with probabilities
    texts = [(f"id{i}", f"text {i}", "pos" if i in (0, 1, 2) else "neg") for i in range(30)]
    root = make_suite([(t, lab) for _, t, lab in texts], ids=[i for i, _, _ in texts], labels=["neg", "pos"])
    for name, skip in (("m1", {0, 1}), ("m2", {0, 1})):
        lines = [f'{{"id": "{i}", "probs": {{"neg": {0.7 - 0.01 * k:.2f}, "pos": {0.3 + 0.01 * k:.2f}}}}}'
                 for k, (i, _, _) in enumerate(texts) if k not in skip]
        (tmp_path / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    res = harness_cli("run", root, "--only", "--model", f"m1=predictions:{tmp_path / 'm1.jsonl'}", "--model",
                      f"m2=predictions:{tmp_path / 'm2.jsonl'}", "--out", tmp_path / "out", "--no-report",
                      "--bootstrap", "100")
    assert res.code == 0, res.err
    assert "internal error" not in res.err


def test_many_comparisons_can_still_reach_significance(registry):
    """Item 9: a bootstrap p-value cannot go below 1/(B+1); with B = 200 and 60 comparisons Holm could never
    reject (60/201 > 0.05). The tests that could be significant are re-run with enough resamples, and the
    output says so; the MDE states the level it uses (alpha/m, the strictest Holm threshold)."""
    rng = np.random.default_rng(12)
    n = 150
    y = (rng.random(n) < 0.5).astype(int)
    guess = rng.integers(0, 2, n)
    models = {"base": binary(y, np.where(guess == 1, 0.6, 0.4))}
    for i in range(60):
        pred = np.where(rng.random(n) < 0.97, y, 1 - y)
        models[f"m{i}"] = binary(y, np.where(pred == 1, 0.6, 0.4))
    fbeta = registry.metrics["fbeta"]
    _, comp = compare(models, [fbeta], "base", CompareOptions(n_resamples=200, seed=0))
    adjusted = [p["metrics"]["fbeta"]["p_adjusted"] for p in comp["pairs"]]
    assert min(adjusted) < 0.05
    assert any("re-run" in note for note in comp["notes"])
    assert max(p["metrics"]["fbeta"]["n_resamples"] for p in comp["pairs"]) > 200
    assert comp["mde"]["alpha"] == pytest.approx(0.05 / 60)


def test_ece_paired_test_holds_its_size_for_two_perfectly_calibrated_models(registry):
    """Item 10: the ECE test rejected 8.5% of the time at n = 500 for two perfectly calibrated models, and a
    model's ECE interval never covered the true 0. Seeded null simulation through compare()."""
    ece = registry.metrics["ece"]
    n, reps = 500, 400
    rejected = covered = 0
    for r in range(reps):
        rng = np.random.default_rng([10, r])
        q = rng.random(n)
        y = (rng.random(n) < q).astype(int)
        coarse = (np.floor(q * 5) + 0.5) / 5  # calibrated too: E[y | coarse] = coarse
        intervals, comp = compare({"a": binary(y, q), "b": binary(y, coarse)}, [ece], "b",
                                  CompareOptions(n_resamples=200, seed=r))
        rejected += comp["pairs"][0]["metrics"]["ece"]["p_value"] < 0.05
        iv = intervals["a"]["ece"]
        covered += iv["low"] <= 0 <= iv["high"]
    assert 0.03 <= rejected / reps <= 0.07
    assert covered / reps >= 0.85


def test_metrics_on_different_example_sets_are_not_ranked(harness_cli, make_suite, tmp_path):
    """Item 7: a model missing predictions for some examples got its log loss on fewer examples than the
    others and was starred best. Values on different example sets are not ranked against each other; the
    summary and the report say so (†)."""
    from harness_testkit import toy_pairs

    heldout = toy_pairs(40, seed=3)
    ids = [f"e{i}" for i in range(40)]
    root = make_suite(heldout, ids=ids, positive="pos")
    full, partial = tmp_path / "full.jsonl", tmp_path / "partial.jsonl"
    lines_full, lines_partial = [], []
    for k, (i, (_, gold)) in enumerate(zip(ids, heldout)):
        p_full = 0.7 if gold == "pos" else 0.3
        lines_full.append({"id": i, "probs": {"neg": 1 - p_full, "pos": p_full}})
        if k % 4:  # every 4th example missing: failed
            p = 0.95 if gold == "pos" else 0.05
            lines_partial.append({"id": i, "probs": {"neg": 1 - p, "pos": p}})
    full.write_text("".join(json.dumps(x) + "\n" for x in lines_full))
    partial.write_text("".join(json.dumps(x) + "\n" for x in lines_partial))
    out = tmp_path / "out"
    res = harness_cli("run", root, "--only", "--model", f"full=predictions:{full}", "--model",
                      f"partial=predictions:{partial}", "--out", out, "--bootstrap", "100", "--max-failed", "100%")
    assert res.code == 0, res.err
    header = next(x for x in res.out.splitlines() if "log_loss" in x and "model" in x)
    cols = [c.strip() for c in header.split("┃")]
    row = {name: [c.strip() for c in next(x for x in res.out.splitlines() if x.startswith(f"│ {name} ")).split("│")]
           for name in ("full", "partial")}
    j = next(k for k, c in enumerate(cols) if c.startswith("log_loss"))
    assert row["partial"][j].endswith("†") and "*" not in row["partial"][j]
    assert row["full"][j].endswith("*")
    assert "not ranked" in res.out
    results = json.loads((out / "results.json").read_text())
    ll = next(m for m in results["models"] if m["name"] == "partial")["metrics"]["log_loss"]
    assert ll["n"] == 30 and "subset" in ll
    html = (out / "report.html").read_text()
    assert "a different example set, not ranked" in html


def test_a_class_too_rare_to_resample_gets_no_bootstrap_test(registry):
    """Acceptance finding: with one positive example among 60, AUPRC's paired bootstrap kept only the ~64% of
    resamples that hold it — every one of them the same positive — and called b's -0.14 a significant
    regression (p = 0.014). A metric undefined on more than 1% of resamples has no bootstrap interval or test,
    and says why; with enough positives the test is back."""
    rng = np.random.default_rng(7)
    y = np.zeros(60, dtype=int)
    y[17] = 1
    a = binary(y, np.clip(np.where(y == 1, 0.45, rng.uniform(0.05, 0.5, 60)), 0, 1))
    b = binary(y, np.clip(np.where(y == 1, 0.3, rng.uniform(0.05, 0.5, 60)), 0, 1))
    metrics = [registry.metrics[m] for m in ("auprc", "recall", "accuracy")]
    intervals, comp = compare({"a": a, "b": b}, metrics, "a", CompareOptions(n_resamples=1000))
    row = comp["pairs"][0]["metrics"]["auprc"]
    assert row["delta"] is not None  # the point values stand
    assert row["p_value"] is None and row["low"] is None and "too rare" in row["reason"]
    assert intervals["b"]["auprc"]["low"] is None and "too rare" in intervals["b"]["auprc"]["reason"]
    assert comp["pairs"][0]["metrics"]["accuracy"]["p_value"] is not None  # not about accuracy

    y2 = (rng.random(400) < 0.3).astype(int)
    a2, b2 = binary(y2, soft(rng, y2, 1.5)), binary(y2, soft(rng, y2, 1.0))
    _, comp2 = compare({"a": a2, "b": b2}, metrics, "a", CompareOptions(n_resamples=500))
    assert comp2["pairs"][0]["metrics"]["auprc"]["p_value"] is not None


def test_one_class_among_the_scored_rows_is_named_as_such(registry):
    """Acceptance finding: AUROC's reason said 'only one class present in the held-out labels' when both classes
    were in the held-out labels and only the rows scored with probabilities held one."""
    y = np.array([0, 1] * 20)
    p = np.where(y == 1, 0.7, 0.2).astype(float)
    p[y == 1] = np.nan  # the positive rows have no probabilities
    value = evaluate(registry.metrics["auroc"], binary(y, p, pred=np.zeros(40, dtype=int)))
    assert value.value is None and "among the 20 of 40 held-out examples scored with probabilities" in value.reason
    whole = evaluate(registry.metrics["auroc"], binary(np.zeros(40, dtype=int), np.full(40, 0.3)))
    assert whole.reason == "only one class present in the held-out labels"
