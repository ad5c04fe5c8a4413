"""harness.stats.distributions gives scipy.stats's numbers to the last bit without importing scipy.stats."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats as st

from harness.stats import distributions as dist


def _grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.array([0, 1, 2, 3, 7, 20, 51, 200, 1000, 5003])
    p = np.array([0.0, 1e-9, 0.05, 0.3, 0.5, 0.5000001, 0.77, 0.999, 1.0])
    k = np.arange(-2, 60).astype(float)
    kk, nn, pp = np.meshgrid(k, n, p, indexing="ij")
    kk = np.concatenate([kk.ravel(), [np.nan, np.inf, -np.inf, 2.5, 1000.0, 4999.0]])
    nn = np.concatenate([nn.ravel(), [10, 10, 10, 10, 5003, 5003]]).astype(float)
    pp = np.concatenate([pp.ravel(), [0.5] * 6])
    return kk, nn, pp


@pytest.mark.parametrize("name", ["cdf", "sf", "pmf"])
def test_binomial_functions_equal_scipy_stats_bit_for_bit(name: str) -> None:
    k, n, p = _grid()
    want = getattr(st.binom, name)(k, n, p)
    got = getattr(dist, f"binom_{name}")(k, n, p)
    np.testing.assert_array_equal(got, want)
    for i in range(0, k.size, 997):  # scalars give scalars
        assert getattr(dist, f"binom_{name}")(k[i], int(n[i]), p[i]) == pytest.approx(want[i], abs=0, nan_ok=True)
    bad = getattr(dist, f"binom_{name}")(3, 5, 1.5)  # outside the parameter space: NaN, as scipy
    assert np.isnan(bad) and np.isnan(getattr(st.binom, name)(3, 5, 1.5))


def test_normal_and_chi_square_tails_equal_scipy_stats() -> None:
    x = np.r_[np.linspace(-40, 40, 4001), 0.0, -0.0, np.inf, -np.inf]
    np.testing.assert_array_equal(dist.norm_sf(x), st.norm.sf(x))
    q = np.r_[0.0, np.geomspace(1e-8, 500, 700)]
    for df in (1, 2, 3, 4, 9, 30):
        np.testing.assert_array_equal(dist.chi2_sf(q, df), st.chi2.sf(q, df))
        assert dist.chi2_sf(float(q[100]), df) == st.chi2.sf(q[100], df)


def test_ranks_equal_scipy_rankdata_with_ties() -> None:
    rng = np.random.default_rng(3)
    for x in (rng.normal(size=1000), rng.integers(0, 7, size=999).astype(float), np.round(rng.random(500), 2),
              np.array([]), np.array([2.0]), np.array([1.0, 1.0, 1.0])):
        np.testing.assert_array_equal(dist.rankdata(x), st.rankdata(x))


def test_the_statistics_do_not_import_scipy_stats() -> None:
    code = ("import numpy as np\nfrom harness.stats import accuracy, delong, multiple, samplesize\n"
            "a = np.arange(200) % 3 == 0\nb = np.arange(200) % 5 == 0\n"
            "accuracy.paired_accuracy_test(a, b)\ndelong.delong_test(a, np.linspace(0, 1, 200), "
            "np.cos(np.arange(200.0)))\nmultiple.cochran_q(np.column_stack([a, b, a ^ b]))\n"
            "samplesize.paired_mde(500, 0.2)\nimport sys\nprint('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
