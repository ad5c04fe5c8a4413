"""The gate's statistics interface: one construction for bounds and p-values, the methods harness already uses,
the rows both models can be scored on, and "not available" never read as a number."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, multivariate_normal, norm

from harness.analysis.gate import GateConfig, GateInput, ModelRecord, Rule, judge
from harness.analysis.gate.bounds import ExactPairedBinary, paired_binary_limits
from harness.analysis.gate.evidence import NotJudged, oriented, paired, single, unpaired
from harness.metrics import MetricData
from harness.plugins import load_registry

METRICS = load_registry(entry_points=False).metrics
LABELS = ("neg", "pos")


def pair(n=600, seed=0, drop=0.0, load=0.6):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    z = rng.standard_normal(n)
    out = []
    for shift in (0.0, drop):
        latent = load * z + np.sqrt(1 - load * load) * rng.standard_normal(n) - shift
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


def test_accuracy_is_judged_by_the_exact_conditional_mcnemar_test():
    cand, ref = pair(drop=0.1, seed=2)
    est = paired(METRICS["accuracy"], cand, ref)
    assert "exact conditional McNemar" in est.method and est.n == cand.n
    rc, rr = cand.y_pred == cand.y_true, ref.y_pred == ref.y_true
    x, y = int(np.sum(rc & ~rr)), int(np.sum(~rc & rr))
    assert est.value == pytest.approx((x - y) / cand.n)
    # at margin 0 the p-value is the one-sided exact (binomial) McNemar p-value, and the bound says the same
    assert est.p_below(0.0) == pytest.approx(binom.cdf(x, x + y, 0.5), rel=1e-12)
    assert est.p_above(0.0) == pytest.approx(binom.sf(x - 1, x + y, 0.5), rel=1e-12)
    for level in (0.001, 0.01, 0.04, 0.05, 0.1, 0.3):
        assert (est.upper(level) < 0) == (binom.cdf(x, x + y, 0.5) < level)
        assert (est.lower(level) > 0) == (binom.sf(x - 1, x + y, 0.5) < level)
        assert est.lower(level) <= est.value <= est.upper(level)


def test_exact_paired_bounds_when_the_models_never_disagree_are_not_degenerate():
    bounds = ExactPairedBinary(0, 0, 300)
    low, high = bounds.at(0.05)
    assert low == pytest.approx(-high) and 0.005 < high < 0.011  # about 3/n: the discordant share's bound
    assert bounds.p_below(0.0) == 1.0 and bounds.p_above(-0.02) < 0.05 < bounds.p_above(-0.005)


def _cells(acc_c, acc_r, load):
    t_c, t_r, r = norm.ppf(1 - acc_c), norm.ppf(1 - acc_r), load * load
    both = multivariate_normal(mean=[0, 0], cov=[[1, r], [r, 1]]).cdf([-t_c, -t_r])
    return acc_c - both, acc_r - both  # P(only the candidate right), P(only the reference right)


@pytest.mark.parametrize("n, acc, load, margin", [
    (200, 0.85, 0.6, 0.0), (500, 0.85, 0.6, 0.0), (400, 0.6, 0.0, 0.0), (300, 0.95, 0.9, 0.0),
    (500, 0.85, 0.6, 0.01), (400, 0.7, 0.3, 0.03), (300, 0.9, 0.6, 0.05),
])
def test_the_accuracy_regression_decision_never_exceeds_alpha(n, acc, load, margin):
    """The exact false-fail probability of `upper bound at alpha < -margin` when the candidate is worse by
    exactly the margin (summed over every paired table, not simulated): at most alpha, at margin 0 and
    beyond; the old Agresti-Min bound reached alpha and above."""
    only_c, only_r = _cells(acc - margin, acc, load)
    share, theta = only_c + only_r, only_c / (only_c + only_r)
    for alpha in (0.05, 0.04):
        size = 0.0
        for n_d in range(1, n + 1):
            w = binom.pmf(n_d, n, share)
            if w < 1e-9:
                continue
            xs = np.arange(n_d + 1)
            px = binom.pmf(xs, n_d, theta)
            keep = px > 1e-12
            fails = paired_binary_limits(xs[keep], n_d - xs[keep], n, alpha)[1] < -margin
            size += w * float(px[keep][fails].sum())
        assert size <= alpha, (alpha, size)
        assert size >= 0.2 * alpha  # conservative (more so with a large margin), not blind


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


@pytest.mark.parametrize("positives", [0, 1])
def test_delong_not_available_means_could_not_judge_never_a_crash_or_a_pass(positives):
    """DeLong with fewer than 2 examples of a class is not available (results.json reports no test): the
    gate cannot judge an AUROC rule on it (exit 3), whether the rule is a regression, a floor or a
    ceiling."""
    n = 80
    y = np.zeros(n, int)
    y[7:7 + positives] = 1
    rng = np.random.default_rng(0)
    p = rng.random(n)
    a = MetricData(LABELS, y, (p > 0.5).astype(int), np.column_stack([1 - p, p]), 1, {})
    q = rng.random(n)
    b = MetricData(LABELS, y, (q > 0.5).astype(int), np.column_stack([1 - q, q]), 1, {})
    with pytest.raises(NotJudged, match="auroc"):
        paired(METRICS["auroc"], a, b, n_resamples=200)
    counts = {"n": n, "ok": n, "invalid": 0, "failed": 0}
    inp = GateInput(ModelRecord("cand", a, counts=counts), ModelRecord("ref", b, counts=counts),
                    {"auroc": METRICS["auroc"]}, LABELS)
    rules = (Rule("regression", "auroc"), Rule("floor", "auroc", threshold=0.5, on="bound"),
             Rule("regression", "auroc", optional=True))
    verdict = judge(inp, GateConfig(rules))
    assert verdict.exit_code == 3
    # with no positive at all AUROC exists for neither model: an optional rule is skipped, not judged
    assert [a.verdict for a in verdict.assessments] == ["not_judged"] * 2 + ["skipped" if positives == 0
                                                                            else "not_judged"]
    if positives == 1:
        assert "at least 2 positive" in verdict.assessments[0].reason


def test_orientation_for_lower_is_better_metrics():
    cand, ref = pair(drop=0.3)
    raw = paired(METRICS["log_loss"], cand, ref, n_resamples=300)
    better = oriented(raw, higher_is_better=False)
    assert raw.value > 0 and better.value == pytest.approx(-raw.value)
    assert better.bounds(0.05) == pytest.approx((-raw.bounds(0.05)[1], -raw.bounds(0.05)[0]))


def test_unpaired_is_wider_than_paired_and_centred_on_the_same_difference():
    cand, ref = pair(drop=0.1, seed=4, load=0.9)  # correlated errors: what pairing is for
    metric = METRICS["accuracy"]
    p = paired(metric, cand, ref)
    iv = metric.interval(ref, 0.05)
    u = unpaired(single(metric, cand), float(metric.compute(ref)), iv.low, iv.high, 0.05)
    assert u.value == pytest.approx(p.value) and not u.paired
    assert u.upper(0.05) - u.lower(0.05) > p.upper(0.05) - p.lower(0.05)
