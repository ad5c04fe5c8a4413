"""The gate's statistics interface: one construction for bounds and p-values, the methods harness already uses,
the rows both models can be scored on, and "not available" never read as a number."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from harness.analysis.gate.evidence import NotJudged, oriented, paired, single, unpaired
from harness.metrics import MetricData
from harness.plugins import load_registry
from harness.stats.accuracy import agresti_min_interval

METRICS = load_registry(entry_points=False).metrics
LABELS = ("neg", "pos")


def pair(n=600, seed=0, drop=0.0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    z = rng.standard_normal(n)
    out = []
    for shift in (0.0, drop):
        latent = 0.6 * z + 0.8 * rng.standard_normal(n) - shift
        right = latent > norm.ppf(0.15)
        p_right = norm.cdf(1.5 * (latent - norm.ppf(0.15)))
        p_pos = np.where(y == 1, p_right, 1 - p_right)
        out.append(MetricData(LABELS, y, np.where(right, y, 1 - y), np.column_stack([1 - p_pos, p_pos]), 1, {}))
    return out[1], out[0]  # candidate, reference


@pytest.mark.parametrize("metric", ["accuracy", "auroc", "f1_macro", "brier"])
def test_p_value_and_bound_are_one_construction(metric):
    cand, ref = pair(drop=0.15)
    est = paired(METRICS[metric], cand, ref, n_resamples=500, seed=1)
    for alpha in (0.01, 0.05, 0.1):
        low, high = est.bounds(alpha)
        for t in np.linspace(low - 0.05, high + 0.05, 41):
            if min(abs(t - high), abs(t - low)) < 1e-6:
                continue
            assert (est.p_below(t) <= alpha) == (high < t), (metric, alpha, t)
            assert (est.p_above(t) <= alpha) == (low > t), (metric, alpha, t)


def test_accuracy_uses_agresti_min_and_its_p_value_inverts_it():
    cand, ref = pair(drop=0.1, seed=2)
    est = paired(METRICS["accuracy"], cand, ref)
    assert "agresti-min" in est.method and est.n == cand.n
    low, high = agresti_min_interval(cand.y_pred == cand.y_true, ref.y_pred == ref.y_true, 0.10)
    assert est.bounds(0.05) == pytest.approx((low, high))
    # Agresti-Min is a Wald interval: its inversion at threshold 0 is Φ(centre / se)
    centre, se = (low + high) / 2, (high - low) / (2 * norm.ppf(0.95))
    assert est.p_below(0.0) == pytest.approx(norm.sf(-centre / se), rel=1e-6)


def test_binary_auroc_uses_delong_and_others_the_paired_bootstrap():
    cand, ref = pair()
    assert paired(METRICS["auroc"], cand, ref).method == "delong"
    assert paired(METRICS["log_loss"], cand, ref, n_resamples=200).method == "paired-bootstrap"


def test_probability_metrics_use_the_rows_both_models_scored():
    cand, ref = pair(n=400)
    proba = cand.proba.copy()
    proba[:50] = np.nan  # the candidate gave no probabilities on 50 rows
    cand = MetricData(LABELS, cand.y_true, cand.y_pred, proba, 1, {})
    rp = ref.proba.copy()
    rp[350:] = np.nan  # the reference on 50 others
    ref = MetricData(LABELS, ref.y_true, ref.y_pred, rp, 1, {})
    est = paired(METRICS["auroc"], cand, ref)
    assert est.n == 300
    rows = np.r_[50:350]
    expected = METRICS["auroc"].compute(cand.take(rows)) - METRICS["auroc"].compute(ref.take(rows))
    assert est.value == pytest.approx(expected)
    assert paired(METRICS["accuracy"], cand, ref).n == 400


def test_a_metric_that_is_not_available_is_not_judged_never_zero():
    cand, ref = pair()
    no_probs = MetricData(LABELS, cand.y_true, cand.y_pred, None, 1, {})
    with pytest.raises(NotJudged, match="auroc is not available for the candidate"):
        paired(METRICS["auroc"], no_probs, ref)
    one_class = MetricData(LABELS, np.ones(50, int), np.ones(50, int), None, 1, {})
    with pytest.raises(NotJudged):
        paired(METRICS["auroc"], one_class, one_class)


def test_delong_with_a_single_positive_does_not_crash():
    n = 80
    y = np.zeros(n, int)
    y[7] = 1
    rng = np.random.default_rng(0)
    p = rng.random(n)
    a = MetricData(LABELS, y, (p > 0.5).astype(int), np.column_stack([1 - p, p]), 1, {})
    q = rng.random(n)
    b = MetricData(LABELS, y, (q > 0.5).astype(int), np.column_stack([1 - q, q]), 1, {})
    try:
        est = paired(METRICS["auroc"], a, b, n_resamples=200)
    except NotJudged:
        return  # not available is an honest answer
    assert np.isfinite(est.value)


def test_orientation_for_lower_is_better_metrics():
    cand, ref = pair(drop=0.3)
    raw = paired(METRICS["log_loss"], cand, ref, n_resamples=300)
    better = oriented(raw, higher_is_better=False)
    assert raw.value > 0 and better.value == pytest.approx(-raw.value)
    assert better.bounds(0.05) == pytest.approx((-raw.bounds(0.05)[1], -raw.bounds(0.05)[0]))


def test_unpaired_is_wider_than_paired_and_centred_on_the_same_difference():
    cand, ref = pair(drop=0.1, seed=4)
    metric = METRICS["accuracy"]
    p = paired(metric, cand, ref)
    iv = metric.interval(ref, 0.05)
    u = unpaired(single(metric, cand), float(metric.compute(ref)), iv.low, iv.high, 0.05)
    assert u.value == pytest.approx(p.value) and not u.paired
    assert u.upper(0.05) - u.lower(0.05) > p.upper(0.05) - p.lower(0.05)
