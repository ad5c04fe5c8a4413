"""The ECE's closed-form interval and paired test (issue 9, item 10): the pieces against brute force, the
test and its interval as one construction, and seeded simulations of the size and coverage (cheap: the test
needs no resampling). The full table over calibration levels, n and classes: benchmarks/bench_calibration_size.py."""

from __future__ import annotations

import numpy as np
import pytest

from harness.analysis.compare import CompareOptions, compare
from harness.analysis.gate.evidence import paired, single
from harness.metrics import MetricData
from harness.plugins import load_registry
from harness.stats.calibration import calibration_bins, squared_calibration_error
from harness.stats.calibration_inference import (
    INTERVAL_METHOD,
    TEST_METHOD,
    CalibrationVariance,
    _Binned,
    calibration_interval,
    leave_one_out,
    paired_calibration_test,
)

ECE = load_registry(entry_points=False).metrics["ece"]


def _tempered(p: np.ndarray, s: float) -> np.ndarray:
    """Binary p(positive) at temperature s on the logit (s > 1 over-, s < 1 under-confident)."""
    logit = np.log(p / (1 - p))
    return 1 / (1 + np.exp(-s * logit))


# a binary world: true p(positive) = q, drawn from a fixed finite grid (exact expectations)
Q = np.linspace(0.04, 0.96, 47)


def true_theta(p_of_q: np.ndarray, n_bins: int = 10) -> float:
    conf = np.maximum(p_of_q, 1 - p_of_q)
    acc = np.where(p_of_q >= 0.5, Q, 1 - Q)
    b = calibration_bins(conf, n_bins)
    w = np.bincount(b, minlength=n_bins) / Q.size
    mu = np.bincount(b, weights=acc - conf, minlength=n_bins) / Q.size / np.where(w > 0, w, 1)
    return float(np.sum(w * mu * mu))


def temperature_for(ece: float, over: bool) -> float:
    lo, hi = (1.0, 8.0) if over else (0.05, 1.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        if (true_theta(_tempered(Q, mid)) > ece * ece) == over:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def binary(y: np.ndarray, p: np.ndarray) -> MetricData:
    proba = np.column_stack([1 - p, p])
    return MetricData(("neg", "pos"), y, proba.argmax(axis=1), proba, 1, {"ece_bins": 10})


def coarse() -> np.ndarray:
    """A calibrated model that only knows which of 8 groups of the grid an example is in."""
    group = np.arange(Q.size) * 8 // Q.size
    return (np.bincount(group, weights=Q) / np.bincount(group))[group]


def model(s: float | None) -> np.ndarray:
    """p(positive) for each grid point: q at temperature s, or the coarse model (None)."""
    return coarse() if s is None else _tempered(Q, s)


def draw(rng: np.random.Generator, n: int, sa: float | None, sb: float | None) -> tuple[np.ndarray, ...]:
    i = rng.integers(0, Q.size, n)
    y = (rng.random(n) < Q[i]).astype(int)
    return y, model(sa)[i], model(sb)[i]


def test_leave_one_out_equals_recomputing_without_each_example():
    rng = np.random.default_rng(1)
    conf = np.concatenate([rng.uniform(0.5, 1, 40), [0.55, 0.95, 0.951]])  # and bins of 1-2 examples
    right = rng.random(conf.size) < conf
    bins = calibration_bins(conf, 10)
    got = leave_one_out(bins, right - conf, 10)
    for i in range(conf.size):
        keep = np.arange(conf.size) != i
        assert got[i] == pytest.approx(squared_calibration_error(conf[keep], right[keep], 10), abs=1e-14)


def test_degenerate_variance_is_the_pair_sum_of_the_kernel():
    """V_D = 2/n² · sum_{i != k} H_ik², H_ik = [same bin of A]·w_A·e_Ai·e_Ak - [same bin of B]·w_B·e_Bi·e_Bk."""
    rng = np.random.default_rng(2)
    n = 70
    ca, cb = rng.uniform(0.5, 1, n), rng.uniform(0.4, 1, n)
    ka, kb = rng.random(n) < ca, rng.random(n) < cb
    ma, mb = _Binned.of(ca, ka, 10), _Binned.of(cb, kb, 10)

    def kernel(m: _Binned) -> np.ndarray:
        c = m.count[m.bins]
        w = np.where(c >= 2, c / np.maximum(c - 1, 1) ** 2, 0.0)
        e = m.residual
        same = m.bins[:, None] == m.bins[None, :]
        return same * np.sqrt(w)[:, None] * np.sqrt(w)[None, :] * e[:, None] * e[None, :]

    h = kernel(ma) - kernel(mb)
    np.fill_diagonal(h, 0.0)
    expected = 2.0 / n**2 * float(np.sum(h * h))
    assert CalibrationVariance.of([ma, mb], [1.0, -1.0]).degenerate == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_paired_test_and_its_interval_are_one_construction(seed):
    rng = np.random.default_rng(seed)
    y, pa, pb = draw(rng, 300, 1.0 + 0.3 * rng.random(), 0.7 + 0.3 * rng.random())
    a, b = binary(y, pa), binary(y, pb)
    for alpha in (0.01, 0.05, 0.2):
        t = ECE.paired_test(a, b, alpha)
        assert t.method == TEST_METHOD
        assert t.delta == pytest.approx(ECE.compute(a) - ECE.compute(b), abs=1e-12)
        assert t.low <= t.delta <= t.high
        assert (t.p_value < alpha) == (t.low > 0 or t.high < 0)
        iv = ECE.interval(a, alpha)
        assert iv.method == INTERVAL_METHOD and iv.low <= ECE.compute(a) <= iv.high


def test_identical_models_do_not_differ():
    rng = np.random.default_rng(3)
    y, pa, _ = draw(rng, 200, 1.2, 1.2)
    t = paired_calibration_test(np.maximum(pa, 1 - pa), (pa > 0.5) == y, np.maximum(pa, 1 - pa), (pa > 0.5) == y)
    assert (t.delta, t.low, t.high, t.p_value) == (0.0, 0.0, 0.0, 1.0)


def _size(n: int, sa: float | None, sb: float | None, reps: int, seed: int) -> float:
    rej = 0
    for r in range(reps):
        y, pa, pb = draw(np.random.default_rng([seed, n, r]), n, sa, sb)
        _, comp = compare({"a": binary(y, pa), "b": binary(y, pb)}, [ECE], "b",
                          CompareOptions(n_resamples=200, seed=r))
        rej += comp["pairs"][0]["metrics"]["ece"]["p_value"] < 0.05
    return rej / reps


@pytest.mark.parametrize("n", [300, 1000])
def test_size_when_the_same_model_is_made_over_and_under_confident_by_the_same_amount(n):
    """Equal true ECE (0.03, about the noise level), one model over- and one under-confident, their
    correctness identical: the pretest bootstrap rejected in 30-55% of runs here; nominal 0.05."""
    sa, sb = temperature_for(0.03, True), temperature_for(0.03, False)
    assert true_theta(_tempered(Q, sa)) == pytest.approx(true_theta(_tempered(Q, sb)), rel=1e-6)
    assert 0.025 <= _size(n, sa, sb, 500, 11) <= 0.08


def test_size_for_two_calibrated_models_and_for_two_equally_miscalibrated_ones():
    assert true_theta(coarse()) == pytest.approx(0.0, abs=1e-15)
    assert 0.025 <= _size(400, 1.0, None, 500, 12) <= 0.08  # the oracle against the coarse model
    sa, sb = temperature_for(0.06, True), temperature_for(0.06, False)
    assert 0.025 <= _size(400, sa, sb, 500, 13) <= 0.08


def test_coverage_of_one_models_interval_at_and_away_from_perfect_calibration():
    for s, reps in ((1.0, 500), (temperature_for(0.05, True), 400), (temperature_for(0.05, False), 400)):
        truth = np.sqrt(true_theta(_tempered(Q, s)))
        cover = 0
        for r in range(reps):
            y, pa, _ = draw(np.random.default_rng([21, r]), 400, s, s)
            iv = ECE.interval(binary(y, pa), 0.05)
            cover += iv.low <= truth <= iv.high
        assert 0.92 <= cover / reps <= 0.985, (s, cover / reps)


def test_power_against_a_real_calibration_difference():
    rej = 0
    s = temperature_for(0.08, True)
    for r in range(200):
        y, pa, pb = draw(np.random.default_rng([31, r]), 1000, 1.0, s)
        rej += ECE.paired_test(binary(y, pa), binary(y, pb), 0.05).p_value < 0.05
    assert rej / 200 > 0.8


def test_compare_and_gate_use_the_closed_form():
    rng = np.random.default_rng(5)
    y, pa, pb = draw(rng, 500, 1.3, 1.0)
    a, b = binary(y, pa), binary(y, pb)
    intervals, comp = compare({"a": a, "b": b}, [ECE], "b", CompareOptions(n_resamples=200, seed=1))
    row = comp["pairs"][0]["metrics"]["ece"]
    t = ECE.paired_test(a, b, 0.05)
    assert row["method"] == TEST_METHOD and "n_resamples" not in row
    assert (row["low"], row["high"], row["p_value"]) == pytest.approx((t.low, t.high, t.p_value), abs=1e-12)
    assert intervals["a"]["ece"]["method"] == INTERVAL_METHOD
    est = paired(ECE, a, b)
    assert est.method == TEST_METHOD
    assert est.bounds(0.025) == pytest.approx((t.low, t.high), abs=1e-12)
    assert single(ECE, a).bounds(0.025) == pytest.approx(
        (intervals["a"]["ece"]["low"], intervals["a"]["ece"]["high"]), abs=1e-12)
    conf = np.maximum(pa, 1 - pa)
    assert calibration_interval(conf, (pa > 0.5) == y).low == pytest.approx(intervals["a"]["ece"]["low"])
