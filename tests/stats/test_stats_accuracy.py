"""McNemar mid-p, Agresti-Min and Wilson intervals."""

from __future__ import annotations

import numpy as np
import pytest

from harness.stats.accuracy import (
    agresti_min_interval,
    discordant_counts,
    mcnemar_midp,
    paired_accuracy_test,
    wilson_interval,
)

Z975 = 1.959963984540054


def paired(n11: int, b: int, c: int, n22: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Correctness vectors with the given paired 2x2 table, shuffled."""
    a = np.array([1] * n11 + [1] * b + [0] * c + [0] * n22, dtype=bool)
    bb = np.array([1] * n11 + [0] * b + [1] * c + [0] * n22, dtype=bool)
    perm = np.random.default_rng(seed).permutation(a.size)
    return a[perm], bb[perm]


def test_discordant_counts():
    a, b = paired(5, 1, 8, 3)
    assert discordant_counts(a, b) == (5, 1, 8, 3)


@pytest.mark.parametrize(
    ("b", "c", "expected"),
    [
        # b + c = 9, k = 1: 2 * (P(X<=1) - P(X=1)/2) = 2 * (10 - 4.5) / 512
        (1, 8, 11 / 512),
        (8, 1, 11 / 512),
        # b + c = 10, k = 3: 2 * (176 - 60) / 1024
        (3, 7, 232 / 1024),
        # b + c = 1: 2 * (1/2 - 1/4) = 1/2
        (0, 1, 0.5),
        # b == c: mid-p is exactly 1
        (6, 6, 1.0),
        (0, 0, 1.0),
    ],
)
def test_mcnemar_midp_hand_computed(b, c, expected):
    a, bb = paired(10, b, c, 4)
    assert mcnemar_midp(a, bb) == pytest.approx(expected, abs=1e-14)


def test_mcnemar_midp_accepts_int_and_is_symmetric():
    a, b = paired(20, 4, 15, 6)
    assert mcnemar_midp(a.astype(int), b.astype(int)) == mcnemar_midp(b, a)


def agresti_min_reference(n11, b, c, n22, alpha=0.05):
    """Wald interval on the 0.5-adjusted table with the general paired variance."""
    z = Z975 if alpha == 0.05 else None
    n = n11 + b + c + n22 + 2.0
    p11, p12, p21, p22 = ((x + 0.5) / n for x in (n11, b, c, n22))
    p1, q1 = p11 + p12, p11 + p21  # adjusted accuracies of A and B
    d = p1 - q1
    var = (p1 * (1 - p1) + q1 * (1 - q1) - 2 * (p11 * p22 - p12 * p21)) / n
    return max(-1.0, d - z * np.sqrt(var)), min(1.0, d + z * np.sqrt(var))


@pytest.mark.parametrize("table", [(30, 12, 5, 3), (100, 0, 0, 10), (0, 7, 0, 0), (40, 2, 9, 49)])
def test_agresti_min_matches_formula(table):
    a, b = paired(*table)
    low, high = agresti_min_interval(a, b)
    ref = agresti_min_reference(*table)
    assert low == pytest.approx(ref[0], abs=1e-14)
    assert high == pytest.approx(ref[1], abs=1e-14)


def test_agresti_min_hand_value():
    # n11=30, b=12, c=5, n22=3 -> n*=52, p12=12.5/52, p21=5.5/52, d=7/52
    a, b = paired(30, 12, 5, 3)
    d = 7 / 52
    se = np.sqrt((18 / 52 - d * d) / 52)
    assert agresti_min_interval(a, b) == pytest.approx((d - Z975 * se, d + Z975 * se), abs=1e-14)


def test_agresti_min_is_clipped():
    a, b = paired(0, 7, 0, 0)
    low, high = agresti_min_interval(a, b)
    assert -1.0 <= low < high <= 1.0
    assert high == 1.0


def test_paired_accuracy_test_combines():
    a, b = paired(30, 12, 5, 3)
    t = paired_accuracy_test(a, b, alpha=0.1)
    assert t.delta == pytest.approx(a.mean() - b.mean(), abs=1e-15)
    assert t.p_value == mcnemar_midp(a, b)
    assert (t.low, t.high) == agresti_min_interval(a, b, alpha=0.1)
    assert t.method == "mcnemar-midp / agresti-min"


def test_wilson_newcombe_example():
    # Newcombe (1998), Stat Med 17:857, example 81/263: score interval 0.2553-0.3662
    iv = wilson_interval(81, 263)
    assert iv.value == pytest.approx(81 / 263)
    assert iv.low == pytest.approx(0.2553, abs=5e-5)
    assert iv.high == pytest.approx(0.3662, abs=5e-5)
    assert iv.method == "wilson"


def test_wilson_edges():
    iv = wilson_interval(0, 10)
    assert iv.low == 0.0 and 0.0 < iv.high < 0.35
    iv = wilson_interval(10, 10)
    assert iv.high == 1.0 and 0.65 < iv.low < 1.0
    with pytest.raises(ValueError):
        wilson_interval(3, 0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_input_validation():
    with pytest.raises(ValueError, match="same length"):
        mcnemar_midp(np.ones(3, bool), np.ones(4, bool))
    with pytest.raises(ValueError, match="alpha"):
        agresti_min_interval(np.ones(3, bool), np.ones(3, bool), alpha=1.5)
