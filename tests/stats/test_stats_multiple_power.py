"""Cochran's Q, Holm adjustment, minimum detectable effect."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import binom, chi2

from harness.stats.accuracy import discordant_counts
from harness.stats.multiple import cochran_q, holm
from harness.stats.power import mde_paired_accuracy


def q_alternative_form(x: np.ndarray) -> float:
    """Q = k(k-1) * sum_j (C_j - N/k)^2 / sum_i R_i (k - R_i), computed with loops."""
    n, k = x.shape
    cols = [sum(int(x[i, j]) for i in range(n)) for j in range(k)]
    rows = [sum(int(x[i, j]) for j in range(k)) for i in range(n)]
    total = sum(cols)
    num = k * (k - 1) * sum((c - total / k) ** 2 for c in cols)
    den = sum(r * (k - r) for r in rows)
    return num / den


def test_cochran_q_textbook_example():
    # 12 subjects x 3 treatments (1 = success); column totals 10, 7, 3
    x = np.array(
        [
            [1, 1, 0],
            [1, 1, 1],
            [0, 0, 0],
            [1, 1, 0],
            [1, 0, 0],
            [1, 1, 0],
            [1, 1, 1],
            [1, 0, 0],
            [1, 1, 0],
            [0, 1, 0],
            [1, 0, 1],
            [1, 0, 0],
        ]
    )
    q, df, p = cochran_q(x)
    # C = (10, 7, 3), N = 20, sum R^2 = 4+9+0+4+1+4+9+1+4+1+4+1 = 42
    # Q = 2 * (3 * 158 - 400) / (3 * 20 - 42) = 148 / 18
    assert q == pytest.approx(148 / 18, abs=1e-12)
    assert df == 2
    assert p == pytest.approx(chi2.sf(148 / 18, 2), abs=1e-15)
    assert q == pytest.approx(q_alternative_form(x), abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cochran_q_random_matches_alternative_form(seed):
    rng = np.random.default_rng(seed)
    x = rng.random((60, 4)) < np.array([0.5, 0.6, 0.7, 0.55])
    q, df, _ = cochran_q(x)
    assert df == 3
    assert q == pytest.approx(q_alternative_form(x), rel=1e-12)


def test_cochran_q_two_models_is_mcnemar_chi2():
    rng = np.random.default_rng(3)
    x = rng.random((80, 2)) < 0.6
    _, b, c, _ = discordant_counts(x[:, 0], x[:, 1])
    q, df, _ = cochran_q(x)
    assert df == 1
    assert q == pytest.approx((b - c) ** 2 / (b + c), abs=1e-12)


def test_cochran_q_all_rows_agree():
    x = np.array([[1, 1, 1], [0, 0, 0], [1, 1, 1]])
    assert cochran_q(x) == (0.0, 2, 1.0)


def test_cochran_q_bad_input():
    with pytest.raises(ValueError):
        cochran_q(np.ones(5))
    with pytest.raises(ValueError):
        cochran_q(np.full((3, 3), 2))


def test_holm_worked_example():
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-15)
    # R: p.adjust(c(.01,.02,.03,.04,.05), "holm")
    assert holm([0.01, 0.02, 0.03, 0.04, 0.05]) == pytest.approx(
        [0.05, 0.08, 0.09, 0.09, 0.09], abs=1e-15
    )


def test_holm_caps_and_edges():
    assert holm([0.5, 0.9, 0.2]) == pytest.approx([1.0, 1.0, 0.6], abs=1e-15)
    assert holm([]) == []
    assert holm([0.3]) == [0.3]
    with pytest.raises(ValueError):
        holm([0.1, float("nan")])
    adj = holm(list(np.random.default_rng(0).random(20)))
    assert all(0 <= a <= 1 for a in adj)


def exact_midp_power(n: int, p10: float, p01: float, alpha: float = 0.05) -> float:
    """Power of the two-sided mid-p McNemar test, summed exactly over the trinomial."""
    psi = p10 + p01
    power = 0.0
    for d in range(1, n + 1):
        pd = binom.pmf(d, n, psi)
        if pd < 1e-14:
            continue
        k = np.arange(d + 1)
        lo = np.minimum(k, d - k)
        midp = np.minimum(1.0, 2 * (binom.cdf(lo, d, 0.5) - 0.5 * binom.pmf(lo, d, 0.5)))
        power += pd * binom.pmf(k, d, p10 / psi)[midp <= alpha].sum()
    return power


def test_mde_gives_nominal_power():
    n, psi = 1500, 0.12
    delta = mde_paired_accuracy(n, psi)
    assert delta == pytest.approx(2.8016 * np.sqrt(psi / n), rel=0.02)
    power = exact_midp_power(n, (psi + delta) / 2, (psi - delta) / 2)
    assert 0.76 <= power <= 0.84


def test_mde_monotone_and_bounded():
    ns = [2, 3, 5, 10, 30, 100, 300, 1000, 10_000, 100_000]
    for disc in (0.0, 0.01, 0.1, 0.5, 1.0):
        values = [mde_paired_accuracy(n, disc) for n in ns]
        assert all(0.0 <= v <= 1.0 for v in values)
        assert all(a >= b for a, b in itertools.pairwise(values))
        assert values[-1] < values[0]
    # more discordance -> larger MDE; stricter alpha / higher power -> larger MDE
    assert mde_paired_accuracy(1000, 0.05) < mde_paired_accuracy(1000, 0.2)
    assert mde_paired_accuracy(1000, 0.1) < mde_paired_accuracy(1000, 0.1, alpha=0.01)
    assert mde_paired_accuracy(1000, 0.1) < mde_paired_accuracy(1000, 0.1, power=0.9)


def test_mde_zero_discordance_uses_one_pair_floor():
    assert mde_paired_accuracy(1000, 0.0) == mde_paired_accuracy(1000, 1 / 1000)
    assert 0.0 < mde_paired_accuracy(1000, 0.0) < 0.01


def test_mde_validation():
    for args in [(0, 0.1), (10, -0.1), (10, 1.1)]:
        with pytest.raises(ValueError):
            mde_paired_accuracy(*args)
    with pytest.raises(ValueError):
        mde_paired_accuracy(10, 0.1, power=1.0)
