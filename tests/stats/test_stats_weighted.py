"""Every vectorised resampled metric equals scikit-learn on the explicit resample."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from harness.stats import weighted as wt
from harness.stats.cells import make_cells
from harness.stats.resample import resample_counts

TOL = 1e-9
SEEDS = [0, 1, 2]
N = 240
B = 25


def resamples(n: int, seed: int, b: int = B) -> np.ndarray:
    w = np.concatenate(list(resample_counts(n, b, seed, max_cells=n * 7)))
    return w


def explicit(w_row: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(w_row.size), w_row.astype(np.int64))


def binary_data(seed: int, n: int = N):
    rng = np.random.default_rng(seed + 100)
    y = rng.random(n) < 0.35
    # coarse scores -> many ties, within and across classes
    score = np.clip(np.round(0.3 * y + rng.normal(0.4, 0.25, n), 1), 0.0, 1.0)
    pred = score >= 0.5
    return y, score, pred


@pytest.mark.parametrize("seed", SEEDS)
def test_label_metrics_binary(seed):
    y, _, pred = binary_data(seed)
    w = resamples(y.size, seed)
    got = {
        "acc": wt.accuracy(y == pred, w),
        "p": wt.precision(y, pred, w),
        "r": wt.recall(y, pred, w),
        "f1": wt.fbeta(y, pred, w),
        "f2": wt.fbeta(y, pred, w, beta=2.0),
        "f05": wt.fbeta(y, pred, w, beta=0.5),
    }
    for j, row in enumerate(w):
        i = explicit(row)
        yy, pp = y[i], pred[i]
        assert got["acc"][j] == pytest.approx(skm.accuracy_score(yy, pp), abs=TOL)
        nan = np.nan
        assert got["p"][j] == pytest.approx(skm.precision_score(yy, pp, zero_division=nan), abs=TOL, nan_ok=True)
        assert got["r"][j] == pytest.approx(skm.recall_score(yy, pp, zero_division=nan), abs=TOL, nan_ok=True)
        assert got["f1"][j] == pytest.approx(skm.f1_score(yy, pp, zero_division=nan), abs=TOL, nan_ok=True)
        for key, beta in (("f2", 2.0), ("f05", 0.5)):
            ref = skm.fbeta_score(yy, pp, beta=beta, zero_division=nan)
            assert got[key][j] == pytest.approx(ref, abs=TOL, nan_ok=True)


def test_undefined_ratios_are_nan_not_zero():
    y = np.array([0, 0, 0, 1, 0], bool)
    pred = np.zeros(5, bool)
    w = np.array([[1, 1, 1, 0, 2], [1, 1, 1, 2, 0]], float)  # no positives / positives; never a prediction
    assert np.isnan(wt.precision(y, pred, w)).all()  # nothing predicted positive: precision undefined
    r = wt.recall(y, pred, w)
    assert np.isnan(r[0]) and r[1] == 0.0  # recall undefined without positives; 0 when all are missed
    f = wt.fbeta(y, pred, w)
    assert np.isnan(f[0]) and f[1] == 0.0


def multiclass_data(seed: int, k: int, n: int = N):
    rng = np.random.default_rng(seed + 200)
    y = rng.integers(0, k, n)
    pred = np.where(rng.random(n) < 0.6, y, rng.integers(0, k, n))
    pred[rng.random(n) < 0.1] = -1  # invalid outputs
    if k > 3:
        y[y == k - 1] = 0  # one class never occurs in y ...
        pred[pred == k - 1] = 0  # ... nor in pred: it has no F1 and is left out of the average
    return y, pred


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [2, 3, 5, 20])  # k = 20 uses the sparse design
def test_multiclass_f1(seed, k):
    y, pred = multiclass_data(seed, k)
    w = resamples(y.size, seed)
    macro = wt.f1_macro(y, pred, k, w)
    weighted = wt.f1_weighted(y, pred, k, w)
    labels = list(range(k))
    for j, row in enumerate(w):
        i = explicit(row)
        ref_m = skm.f1_score(y[i], pred[i], labels=labels, average="macro", zero_division=np.nan)
        ref_w = skm.f1_score(y[i], pred[i], labels=labels, average="weighted", zero_division=np.nan)
        assert macro[j] == pytest.approx(ref_m, abs=TOL)
        assert weighted[j] == pytest.approx(ref_w, abs=TOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_ranked_auroc_and_ap_with_ties(seed):
    y, score, _ = binary_data(seed)
    w = resamples(y.size, seed)
    ranked = wt.Ranked(y, score)
    auroc, ap = ranked.auroc(w), ranked.average_precision(w)
    for j, row in enumerate(w):
        i = explicit(row)
        assert auroc[j] == pytest.approx(skm.roc_auc_score(y[i], score[i]), abs=TOL)
        assert ap[j] == pytest.approx(skm.average_precision_score(y[i], score[i]), abs=TOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_ranked_continuous_scores(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(N) < 0.2
    score = rng.normal(size=N) + y
    w = resamples(N, seed)
    ranked = wt.Ranked(y, score)
    for j, (a, p) in enumerate(zip(ranked.auroc(w), ranked.average_precision(w), strict=True)):
        i = explicit(w[j])
        assert a == pytest.approx(skm.roc_auc_score(y[i], score[i]), abs=TOL)
        assert p == pytest.approx(skm.average_precision_score(y[i], score[i]), abs=TOL)


def test_ranked_undefined_resamples_are_nan():
    y = np.array([1, 0, 0, 1, 0], bool)
    score = np.array([0.9, 0.2, 0.9, 0.1, 0.5])
    w = np.array([[0, 2, 1, 0, 2], [2, 0, 0, 3, 0], [1, 1, 1, 1, 1]], float)
    ranked = wt.Ranked(y, score)
    auroc, ap = ranked.auroc(w), ranked.average_precision(w)
    assert np.isnan(auroc[0]) and np.isnan(auroc[1])
    assert np.isnan(ap[0]) and ap[1] == pytest.approx(1.0)
    assert auroc[2] == pytest.approx(skm.roc_auc_score(y, score))
    assert ap[2] == pytest.approx(skm.average_precision_score(y, score))


def test_ranked_integer_and_large_count_dtypes():
    y, score, _ = binary_data(5)
    w = resamples(y.size, 5, b=4)
    ranked = wt.Ranked(y, score)
    ref = ranked.average_precision(w)
    assert np.array_equal(ranked.average_precision(w.astype(np.int64)), ref)
    big = w * 300.0  # counts above 255 take the uint16 / int64 paths, same metric
    assert ranked.average_precision(big) == pytest.approx(ref, abs=1e-12)
    assert ranked.auroc(big * 300.0) == pytest.approx(ranked.auroc(w), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_log_loss_and_brier(seed):
    rng = np.random.default_rng(seed + 300)
    k = 3
    y = rng.integers(0, k, N)
    logits = rng.normal(size=(N, k)) + 1.5 * np.eye(k)[y]
    prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    p_true = prob[np.arange(N), y]
    yb = y == 0
    pb = prob[:, 0]
    w = resamples(N, seed)
    ll = wt.log_loss(p_true, w)
    br = wt.brier((yb - pb) ** 2, w)
    for j, row in enumerate(w):
        i = explicit(row)
        assert ll[j] == pytest.approx(skm.log_loss(y[i], prob[i], labels=list(range(k))), abs=TOL)
        assert br[j] == pytest.approx(skm.brier_score_loss(yb[i], pb[i]), abs=TOL)


def test_log_loss_clip():
    w = np.ones((1, 3))
    got = wt.log_loss(np.array([0.0, 1.0, 0.5]), w)[0]
    assert got == pytest.approx((-np.log(1e-15) + 0.0 - np.log(0.5)) / 3, abs=1e-12)
    with pytest.raises(ValueError):
        wt.log_loss(np.array([1.2]), np.ones((1, 1)))


def ece_by_definition(conf: np.ndarray, correct: np.ndarray, m: int) -> float:
    """sum_j n_j/n |acc_j - conf_j| with bins (j/m, (j+1)/m], 0 in bin 0 (loops)."""
    total = 0.0
    for j in range(m):
        lo, hi = j / m, (j + 1) / m
        inside = [
            (c, ok)
            for c, ok in zip(conf, correct, strict=True)
            if (lo < c <= hi) or (j == 0 and c == 0)
        ]
        if inside:
            acc = sum(ok for _, ok in inside) / len(inside)
            cf = sum(c for c, _ in inside) / len(inside)
            total += len(inside) / len(conf) * abs(acc - cf)
    return total


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m", [10, 15])
def test_ece_weighted_equals_unweighted_on_resample(seed, m):
    rng = np.random.default_rng(seed + 400)
    conf = np.round(rng.uniform(0.0, 1.0, N), 2)  # lands on bin edges too
    conf[:3] = [0.0, 1.0, 0.3]
    correct = rng.random(N) < conf
    w = resamples(N, seed)
    got = wt.ece(conf, correct, w, n_bins=m)
    for j, row in enumerate(w):
        i = explicit(row)
        ref = wt.expected_calibration_error(conf[i], correct[i], n_bins=m)
        assert got[j] == pytest.approx(ref, abs=TOL)
    assert wt.expected_calibration_error(conf, correct, m) == pytest.approx(
        ece_by_definition(conf, correct, m), abs=1e-12
    )


def test_ece_bins_are_right_closed():
    bins = wt.calibration_bins(np.array([0.0, 0.1, 0.1000001, 0.3, 0.30000001, 0.95, 1.0]), 10)
    assert bins.tolist() == [0, 0, 1, 2, 3, 9, 9]
    assert wt.expected_calibration_error([1.0, 1.0], [True, True]) == 0.0
    assert wt.expected_calibration_error([0.8, 0.8], [False, False]) == pytest.approx(0.8)
    with pytest.raises(ValueError):
        wt.calibration_bins(np.array([1.5]), 10)


def test_cells_give_same_metric_as_examples():
    y, pred = multiclass_data(1, 4)
    pred_b = np.where(np.random.default_rng(9).random(y.size) < 0.3, pred, y)
    cells = make_cells(y, pred, pred_b)
    assert cells.n == y.size
    for col, orig in zip(cells.columns, (y, pred, pred_b), strict=True):
        assert np.array_equal(col[cells.index], orig)
    w = resamples(y.size, 3)
    wc = cells.aggregate(w)
    cy, ca, cb = cells.columns
    np.testing.assert_allclose(wt.f1_macro(cy, ca, 4, wc), wt.f1_macro(y, pred, 4, w), atol=1e-12)
    np.testing.assert_allclose(
        wt.f1_weighted(cy, cb, 4, wc), wt.f1_weighted(y, pred_b, 4, w), atol=1e-12
    )
    np.testing.assert_allclose(wt.accuracy(cy == ca, wc), wt.accuracy(y == pred, w), atol=1e-12)


def test_shape_validation():
    with pytest.raises(ValueError, match="shape"):
        wt.accuracy(np.ones(4, bool), np.ones((2, 5)))
    with pytest.raises(ValueError):
        wt.f1_macro(np.array([0, 3]), np.array([0, 1]), 3, np.ones((1, 2)))


def test_no_sklearn_warnings_needed():
    # the vectorised code never calls scikit-learn; make sure it is silent too
    y, score, pred = binary_data(0)
    w = resamples(y.size, 0, b=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wt.Ranked(y, score).average_precision(w)
        wt.fbeta(y, pred, w)


def test_fused_linear_statistics_equal_separate_metrics():
    rng = np.random.default_rng(21)
    conf_a, conf_b = rng.uniform(0.5, 1, N), rng.uniform(0.5, 1, N)
    ok_a, ok_b = rng.random(N) < conf_a, rng.random(N) < conf_b
    p_true = rng.uniform(0.01, 1, N)
    w = resamples(N, 4)
    fused = wt.fuse_linear({"ll": wt.Mean(wt.log_loss_terms(p_true)),
                            "ea": wt.Calibration(conf_a, ok_a, 10),
                            "eb": wt.Calibration(conf_b, ok_b, 15)})
    ll, ea, eb = fused["ll"], fused["ea"], fused["eb"]
    np.testing.assert_allclose(ll(w), wt.log_loss(p_true, w), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ea(w), wt.ece(conf_a, ok_a, w, 10), rtol=0, atol=1e-12)
    np.testing.assert_allclose(eb(w), wt.ece(conf_b, ok_b, w, 15), rtol=0, atol=1e-12)
    w2 = resamples(N, 5)  # a new chunk object -> a new product
    np.testing.assert_allclose(ea(w2), wt.ece(conf_a, ok_a, w2, 10), rtol=0, atol=1e-12)


def test_ranked_both_and_row_blocks(monkeypatch):
    y, score, _ = binary_data(2)
    w = resamples(y.size, 2, b=9)
    ranked = wt.Ranked(y, score)
    auroc, ap = ranked.both(w)
    from harness.stats import ranked as ranked_mod

    monkeypatch.setattr(ranked_mod, "_RANK_BLOCK_CELLS", 2 * y.size)  # blocks of 2 rows
    np.testing.assert_array_equal(ranked.auroc(w), auroc)
    np.testing.assert_array_equal(ranked.average_precision(w), ap)
    assert ranked.auroc(w[:0]).shape == (0,)
