"""DeLong AUC variance / test against R pROC on the aSAH data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from harness.stats.delong import auc_variance, delong_auc, delong_compare, delong_test
from harness.stats.results import PairedTest

ASAH = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "aSAH.csv"
TOL = 1e-9


@pytest.fixture(scope="module")
def asah() -> dict[str, np.ndarray]:
    if not ASAH.is_file():
        pytest.skip(f"reference data not found: {ASAH}")
    data = np.loadtxt(ASAH, delimiter=",", skiprows=1)
    header = ASAH.read_text().splitlines()[0].split(",")
    cols = {name: data[:, i] for i, name in enumerate(header)}
    assert set(cols) >= {"y", "wfns_num", "s100b", "ndka"}
    return cols


def test_variance_matches_proc(asah):
    auc, var = auc_variance(asah["y"].astype(int), asah["wfns_num"])
    assert var == pytest.approx(0.00146991470882, abs=TOL)
    assert auc == pytest.approx(roc_auc_score(asah["y"], asah["wfns_num"]), abs=1e-12)


def test_wfns_vs_s100b_matches_proc(asah):
    t = delong_test(asah["y"], asah["wfns_num"], asah["s100b"])
    assert isinstance(t, PairedTest)
    assert t.statistic == pytest.approx(2.2089835914, abs=TOL)
    assert t.p_value == pytest.approx(0.02717578223, abs=TOL)
    assert t.low == pytest.approx(0.0104061770, abs=TOL)
    assert t.high == pytest.approx(0.1742144192, abs=TOL)
    auc_w = roc_auc_score(asah["y"], asah["wfns_num"])
    auc_s = roc_auc_score(asah["y"], asah["s100b"])
    assert t.delta == pytest.approx(auc_w - auc_s, abs=1e-12)
    assert t.method == "delong"


@pytest.mark.parametrize(
    ("a", "b", "z", "p"),
    [
        ("wfns_num", "ndka", 2.7977759187, 0.005145579707),
        ("ndka", "s100b", -1.3907700257, 0.1642951752),
    ],
)
def test_other_pairs_match_proc(asah, a, b, z, p):
    t = delong_test(asah["y"], asah[a], asah[b])
    assert t.statistic == pytest.approx(z, abs=TOL)
    assert t.p_value == pytest.approx(p, abs=TOL)


def test_swapping_models_flips_sign(asah):
    ab = delong_test(asah["y"], asah["wfns_num"], asah["s100b"])
    ba = delong_test(asah["y"], asah["s100b"], asah["wfns_num"])
    assert ba.delta == pytest.approx(-ab.delta, abs=1e-15)
    assert ba.statistic == pytest.approx(-ab.statistic, abs=1e-12)
    assert ba.p_value == pytest.approx(ab.p_value, abs=1e-15)


def test_identical_and_rank_equivalent_scores_give_p_one(asah):
    y, s = asah["y"], asah["s100b"]
    for other in (s.copy(), 3.0 * s + 1.0, np.exp(s), np.log1p(s)):
        t = delong_test(y, s, other)
        assert t.delta == 0.0
        assert t.p_value == 1.0
        assert t.statistic == 0.0
        assert (t.low, t.high) == (0.0, 0.0)


def test_rank_equivalent_random_scores_with_ties():
    rng = np.random.default_rng(1)
    y = rng.random(500) < 0.3
    s = np.round(rng.normal(size=500) + y, 1)  # many ties
    t = delong_test(y, s, np.tanh(s) * 7 - 2)
    assert (t.delta, t.p_value) == (0.0, 1.0)


def test_ci_of_single_auc(asah):
    iv = delong_auc(asah["y"], asah["wfns_num"])
    auc, var = auc_variance(asah["y"], asah["wfns_num"])
    half = 1.959963984540054 * np.sqrt(var)
    assert iv.value == auc
    assert iv.low == pytest.approx(auc - half, abs=1e-12)
    assert iv.high == pytest.approx(min(1.0, auc + half), abs=1e-12)
    assert iv.method == "delong"


def test_ci_is_clipped_to_unit_interval():
    y = np.array([0, 0, 0, 1, 1, 1])
    iv = delong_auc(y, np.array([0.1, 0.2, 0.35, 0.3, 0.8, 0.9]))
    assert 0.0 <= iv.low <= iv.value <= iv.high <= 1.0


def test_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(7)
    y = rng.random(300) < 0.4
    s = rng.integers(0, 5, size=300).astype(float)
    auc, _ = auc_variance(y, s)
    assert auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)


@pytest.mark.parametrize("y", [np.ones(10, int), np.zeros(10, bool)])
def test_one_class_raises(y):
    with pytest.raises(ValueError, match="only"):
        auc_variance(y, np.arange(10.0))
    with pytest.raises(ValueError, match="only"):
        delong_test(y, np.arange(10.0), np.arange(10.0))


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="at least 2"):
        auc_variance(np.array([1, 0, 0, 0]), np.arange(4.0))
    with pytest.raises(ValueError, match="same length"):
        delong_test(np.array([1, 0, 1, 0]), np.arange(4.0), np.arange(5.0))
    with pytest.raises(ValueError, match="0/1"):
        auc_variance(np.array([2, 0, 1, 0]), np.arange(4.0))
    with pytest.raises(ValueError, match="finite"):
        auc_variance(np.array([1, 0, 1, 0]), np.array([0.1, np.nan, 0.3, 0.2]))


def test_compare_equals_separate_calls(asah):
    y, a, b = asah["y"], asah["wfns_num"], asah["s100b"]
    ia, ib, t = delong_compare(y, a, b, alpha=0.1)
    assert ia == delong_auc(y, a, alpha=0.1)
    assert ib == delong_auc(y, b, alpha=0.1)
    assert t == delong_test(y, a, b, alpha=0.1)


# --- an independent check that runs everywhere (issue 9, item 12) --------------------------------------
# DeLong, DeLong & Clarke-Pearson (1988) directly: the structural components are averages of the kernel
# psi(x, z) = 1 if x > z, 1/2 if x == z, 0 otherwise over all m·n (positive, negative) pairs, and the
# covariance of two AUCs is S10/m + S01/n from the sample covariances of those components. Written here from
# the definition (pairwise, O(m·n)), sharing nothing with the O(n log n) midrank code it checks.


def _components(x_pos: np.ndarray, z_neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    psi = (x_pos[:, None] > z_neg[None, :]) + 0.5 * (x_pos[:, None] == z_neg[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)  # V10 over positives, V01 over negatives


def _delong_by_definition(y, scores_list):
    y = np.asarray(y, dtype=bool)
    comps = [_components(np.asarray(s)[y], np.asarray(s)[~y]) for s in scores_list]
    aucs = np.array([v10.mean() for v10, _ in comps])
    v10 = np.array([c[0] for c in comps])  # (k, m)
    v01 = np.array([c[1] for c in comps])  # (k, n)
    cov = np.atleast_2d(np.cov(v10)) / y.sum() + np.atleast_2d(np.cov(v01)) / (~y).sum()
    return aucs, cov


@pytest.mark.parametrize("seed", range(6))
def test_delong_equals_the_structural_components_definition_with_ties(seed):
    from scipy.stats import norm

    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 160))
    y = rng.random(n) < rng.uniform(0.15, 0.6)
    y[:2], y[2:4] = True, False  # at least two of each class
    shared = rng.normal(size=n)
    decimals = int(rng.integers(0, 2))  # coarse scores: ties within and across classes
    sa = np.round(y * rng.uniform(0.2, 1.5) + shared + rng.normal(size=n), decimals)
    sb = np.round(y * rng.uniform(0.2, 1.5) + shared + rng.normal(size=n), decimals)
    aucs, cov = _delong_by_definition(y, [sa, sb])
    auc_a, var_a = auc_variance(y, sa)
    assert auc_a == pytest.approx(aucs[0], abs=1e-12)
    assert var_a == pytest.approx(cov[0, 0], rel=1e-10, abs=1e-15)
    t = delong_test(y, sa, sb)
    var_d = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    z = (aucs[0] - aucs[1]) / np.sqrt(var_d)
    assert t.delta == pytest.approx(aucs[0] - aucs[1], abs=1e-12)
    assert t.statistic == pytest.approx(z, rel=1e-9, abs=1e-12)
    assert t.p_value == pytest.approx(2 * norm.sf(abs(z)), rel=1e-9, abs=1e-15)
    half = norm.ppf(0.975) * np.sqrt(var_d)
    assert (t.low, t.high) == pytest.approx((max(-1, z * np.sqrt(var_d) - half),
                                             min(1, z * np.sqrt(var_d) + half)), abs=1e-12)
    iv = delong_auc(y, sb, alpha=0.1)
    half_b = norm.ppf(0.95) * np.sqrt(cov[1, 1])
    assert (iv.low, iv.high) == pytest.approx((max(0, aucs[1] - half_b), min(1, aucs[1] + half_b)), abs=1e-12)
