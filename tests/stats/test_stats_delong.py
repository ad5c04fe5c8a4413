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
