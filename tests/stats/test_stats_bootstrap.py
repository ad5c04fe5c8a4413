"""Paired bootstrap and percentile intervals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score

from harness.stats import weighted as wt
from harness.stats.bootstrap import (
    bootstrap_draws,
    bootstrap_interval,
    generic_resampled,
    interval_from_draws,
    paired_bootstrap,
    paired_bootstrap_many,
    paired_test_from_draws,
    prefetch,
)
from harness.stats.cells import make_cells


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    n = 300
    y = rng.random(n) < 0.35
    shared = rng.normal(size=n)
    sa = y * 1.2 + shared + rng.normal(size=n)
    sb = y * 0.8 + shared + rng.normal(size=n)
    return y, sa, sb, sa > 0.6, sb > 0.6


def test_p_value_formula_and_percentiles():
    a = np.array([0.5, 0.7, 0.9, 0.6, 0.8])
    b = np.array([0.5, 0.5, 0.5, 0.5, 0.5])
    t = paired_test_from_draws(a, b, 0.75, 0.5, alpha=0.5)
    # d* = 0.0, 0.2, 0.4, 0.1, 0.3: one draw <= 0, five >= 0 -> (1 + 2·1) / (1 + 5)
    assert t.p_value == pytest.approx(3 / 6)
    assert t.delta == pytest.approx(0.25)
    # k = ceil((0.5·6 - 1)/2) = 1: [d_(1), d_(5)]
    assert (t.low, t.high) == pytest.approx((0.0, 0.4))
    assert t.n_resamples == 5
    assert t.method == "paired-bootstrap"


def test_p_value_and_interval_are_one_construction():
    """Issue 9, item 8: p < alpha exactly when the interval excludes 0, for any draws, B and alpha (the
    old p-value inverted the basic interval while the percentile one was shown)."""
    rng = np.random.default_rng(8)
    disagree = 0
    for _ in range(3000):
        b = int(rng.integers(20, 400))
        alpha = float(rng.choice([0.01, 0.05, 0.1, 0.2]))
        shift, spread = rng.normal(0, 1), rng.uniform(0.2, 2)
        d = np.round(shift + spread * rng.standard_gamma(rng.uniform(0.5, 4), b) - spread, int(rng.integers(1, 4)))
        t = paired_test_from_draws(d, np.zeros(b), 0.3, 0.0, alpha)
        excludes = t.low > 0 or t.high < 0
        disagree += (t.p_value < alpha) != excludes
    assert disagree == 0


def test_order_rank_and_tiny_b():
    from harness.stats.bootstrap import order_rank

    assert order_rank(1000, 0.05) == 25  # [d_(25), d_(976)]
    assert order_rank(19, 0.05) == 0  # alpha·(B+1) = 1: no p-value below alpha, no finite interval
    t = paired_test_from_draws(np.ones(19), np.zeros(19), 1.0, 0.0, 0.05)
    assert t.p_value == pytest.approx(1 / 20) and np.isinf(t.low) and np.isinf(t.high)


def test_zero_delta_gives_p_one_and_all_nan_gives_nan():
    t = paired_test_from_draws(np.array([0.1, 0.3]), np.array([0.2, 0.2]), 0.4, 0.4)
    assert t.p_value == 1.0
    t = paired_test_from_draws(np.array([np.nan]), np.array([0.2]), 0.4, 0.3)
    assert np.isnan(t.p_value) and t.n_resamples == 0
    iv = interval_from_draws(np.array([np.nan, np.nan]), 0.5)
    assert np.isnan(iv.low) and iv.n_resamples == 0


def test_interval_from_draws():
    iv = interval_from_draws(np.arange(101.0), 50.0, alpha=0.1)
    # k = ceil((0.1·102 - 1)/2) = 5: the 5th smallest and the 5th largest of 0..100
    assert (iv.value, iv.low, iv.high) == (50.0, 4.0, 96.0)
    assert iv.method == "bootstrap-percentile" and iv.n_resamples == 101


def test_generic_adaptor_equals_vectorised(data):
    y, sa, sb, _, _ = data
    n = y.size
    ra, rb = wt.Ranked(y, sa), wt.Ranked(y, sb)
    va, vb = average_precision_score(y, sa), average_precision_score(y, sb)
    fast = paired_bootstrap(ra.average_precision, rb.average_precision, n, va, vb, 60, seed=5)
    slow = paired_bootstrap(
        generic_resampled(lambda i: average_precision_score(y[i], sa[i])),
        generic_resampled(lambda i: average_precision_score(y[i], sb[i])),
        n,
        va,
        vb,
        60,
        seed=5,
    )
    assert fast.delta == slow.delta
    assert fast.p_value == slow.p_value
    assert fast.low == pytest.approx(slow.low, abs=1e-12)
    assert fast.high == pytest.approx(slow.high, abs=1e-12)


def test_many_equals_single_calls(data):
    y, sa, sb, pa, pb = data
    n = y.size
    ra, rb = wt.Ranked(y, sa), wt.Ranked(y, sb)
    fa, fb = wt.BinaryCounts(y, pa), wt.BinaryCounts(y, pb)
    va, vb = f1_score(y, pa), f1_score(y, pb)
    many = paired_bootstrap_many(
        {"f1": (fa.fbeta, fb.fbeta, va, vb), "auroc": (ra.auroc, rb.auroc, 0.7, 0.6)},
        n,
        150,
        seed=9,
        max_cells=n * 40,
    )
    single = paired_bootstrap(fa.fbeta, fb.fbeta, n, va, vb, 150, seed=9)
    assert many["f1"].test == single
    iv = bootstrap_interval(fa.fbeta, n, va, 150, seed=9)
    assert many["f1"].a == iv
    assert many["f1"].a.low <= va <= many["f1"].a.high


def test_cells_path_matches_example_path_in_distribution(data):
    y, _, _, pa, pb = data
    n = y.size
    cells = make_cells(y, pa, pb)
    cy, ca, cb = cells.columns
    ex = bootstrap_draws(
        {"a": wt.BinaryCounts(y, pa).fbeta, "b": wt.BinaryCounts(y, pb).fbeta}, n, 3000, seed=1
    )
    ce = bootstrap_draws(
        {"a": wt.BinaryCounts(cy, ca).fbeta, "b": wt.BinaryCounts(cy, cb).fbeta},
        n,
        3000,
        seed=1,
        cell_counts=cells.counts,
    )
    d_ex, d_ce = ex["a"] - ex["b"], ce["a"] - ce["b"]
    assert d_ce.std() == pytest.approx(d_ex.std(), rel=0.08)
    assert d_ce.mean() == pytest.approx(d_ex.mean(), abs=0.1 * d_ex.std())
    assert ce["a"].std() == pytest.approx(ex["a"].std(), rel=0.08)
    with pytest.raises(ValueError, match="sum"):
        bootstrap_draws({"a": wt.BinaryCounts(cy, ca).fbeta}, n + 1, 10, cell_counts=cells.counts)


def test_nan_resamples_are_dropped():
    # tiny, rare positives: some resamples have no positive -> NaN AUROC
    y = np.zeros(12, bool)
    y[0] = True
    s = np.linspace(0, 1, 12)
    r = wt.Ranked(y, s)
    t = paired_bootstrap(r.auroc, r.auroc, 12, 0.0, 0.0, n_resamples=200, seed=0)
    assert 0 < t.n_resamples < 200 and t.n_resamples + t.n_undefined == 200
    # a third of the resamples hold no positive: the rest all hold the same one, so no test at all
    assert np.isnan(t.p_value) and np.isnan(t.low) and np.isnan(t.high)


def test_a_few_undefined_resamples_are_dropped_more_are_no_test():
    """Up to 1% of resamples may be undefined (dropped); beyond that there is no interval or test."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(1, 0.2, 1000), rng.normal(0, 0.2, 1000)
    a[:10] = np.nan
    t = paired_test_from_draws(a, b, 1.0, 0.0)
    assert t.n_resamples == 990 and t.n_undefined == 10 and t.p_value < 0.05
    a[:11] = np.nan
    t = paired_test_from_draws(a, b, 1.0, 0.0)
    assert np.isnan(t.p_value) and t.n_undefined == 11
    assert np.isnan(interval_from_draws(a, 1.0).low) and not np.isnan(interval_from_draws(a[5:], 1.0).low)


def test_detects_a_real_difference(data):
    y, sa, sb, _, _ = data
    ra, rb = wt.Ranked(y, sa), wt.Ranked(y, sb)
    one = np.ones((1, y.size))
    t = paired_bootstrap(
        ra.auroc, rb.auroc, y.size, ra.auroc(one)[0], rb.auroc(one)[0], 400, seed=3
    )
    assert t.delta > 0 and t.low > 0 and t.p_value < 0.05


def test_bad_stat_shape():
    with pytest.raises(ValueError, match="shape"):
        bootstrap_draws({"x": lambda w: np.zeros(3)}, 10, 5)


def test_prefetch_passes_items_and_errors_through():
    assert list(prefetch(iter(range(7)), depth=2)) == list(range(7))

    def failing():
        yield 1
        raise RuntimeError("boom")

    it = prefetch(failing())
    assert next(it) == 1
    with pytest.raises(RuntimeError, match="boom"):
        next(it)
    early = prefetch(iter(range(100)), depth=1)
    assert next(early) == 0
    early.close()  # stops the producer thread without hanging


def test_large_n_uses_prefetch_and_is_deterministic():
    """Chunking never changes the resamples (integer counts, bit for bit); a statistic with a real-valued
    design goes through a BLAS product whose rounding may depend on the chunk's shape (6.7e-16 seen on an
    AVX-512 OpenBLAS kernel), so its values agree to rounding. Issue 9, item 11."""
    from harness.stats.resample import PER_ROW_MIN_N, resample_counts

    n = PER_ROW_MIN_N
    rng = np.random.default_rng(2)
    x = rng.random(n)
    seen: dict[int, list[np.ndarray]] = {4: [], 30: []}

    def record(rows):
        def stat(w):
            seen[rows].append(np.asarray(w, dtype=np.int64).copy())
            return w.sum(axis=1)
        return stat

    mean = wt.Mean(x)
    d1 = bootstrap_draws({"m": mean, "c": record(4)}, n, 30, seed=4, max_cells=n * 4)
    d2 = bootstrap_draws({"m": mean, "c": record(30)}, n, 30, seed=4, max_cells=n * 30)
    assert np.array_equal(np.concatenate(seen[4]), np.concatenate(seen[30]))  # the same resamples
    assert len(seen[4]) > len(seen[30])  # ... drawn in different chunks
    np.testing.assert_allclose(d1["m"], d2["m"], rtol=1e-12, atol=0)
    assert d1["m"].std() == pytest.approx(x.std() / np.sqrt(n), rel=0.4)
    counts = np.concatenate(list(resample_counts(n, 7, 4, max_cells=n * 3)))
    assert np.array_equal(counts, np.concatenate(seen[4])[:7])
