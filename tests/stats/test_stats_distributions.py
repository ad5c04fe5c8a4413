"""harness.stats.distributions (and harness.stats.special) give scipy's numbers without importing scipy: to
1e-10 relative (about 1e-12 where the values matter) wherever a value is above 1e-250, and the same edges of
the support (NaN, 0, 1) exactly."""

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


def _close(got: np.ndarray, want: np.ndarray, rel: float = 1e-10) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    big = ~np.isnan(want) & (np.abs(want) > 1e-250)
    np.testing.assert_allclose(got[big], want[big], rtol=rel, atol=0)
    small = ~np.isnan(want) & ~big
    np.testing.assert_allclose(got[small], want[small], rtol=0, atol=1e-250)
    assert np.array_equal(got[want == 1.0], want[want == 1.0])  # where scipy says 0, below 1e-250 (underflow)


@pytest.mark.parametrize("name", ["cdf", "sf", "pmf"])
def test_binomial_functions_equal_scipy_stats(name: str) -> None:
    k, n, p = _grid()
    want = getattr(st.binom, name)(k, n, p)
    got = getattr(dist, f"binom_{name}")(k, n, p)
    _close(got, want)
    mid = (want > 1e-6) & (want < 1 - 1e-6)  # where tests and powers are decided: to ~1e-12
    np.testing.assert_allclose(got[mid], want[mid], rtol=1e-11, atol=0)
    for i in range(0, k.size, 997):  # scalars give scalars
        assert getattr(dist, f"binom_{name}")(k[i], int(n[i]), p[i]) == pytest.approx(want[i], rel=1e-10, abs=1e-250,
                                                                                          nan_ok=True)
    bad = getattr(dist, f"binom_{name}")(3, 5, 1.5)  # outside the parameter space: NaN, as scipy
    assert np.isnan(bad) and np.isnan(getattr(st.binom, name)(3, 5, 1.5))


def test_normal_and_chi_square_tails_equal_scipy_stats() -> None:
    x = np.r_[np.linspace(-40, 40, 4001), 0.0, -0.0, np.inf, -np.inf]
    _close(dist.norm_sf(x), st.norm.sf(x), 1e-12)
    q = np.r_[0.0, np.geomspace(1e-8, 500, 700)]
    for df in (1, 2, 3, 4, 9, 30, 57):
        _close(dist.chi2_sf(q, df), st.chi2.sf(q, df), 1e-12)
        assert dist.chi2_sf(float(q[100]), df) == pytest.approx(st.chi2.sf(q[100], df), rel=1e-12)
    assert dist.chi2_sf(-1.0, 3) == 1.0


def test_normal_quantile_and_distribution_equal_scipy_special() -> None:
    from scipy import special as sc

    from harness.stats import special

    for p in (0.0, 1e-300, 1e-20, 1e-10, 0.001, 0.025, 0.05, 0.2, 0.5, 0.8, 0.95, 0.975, 0.999, 1 - 1e-12, 1.0):
        assert special.ndtri(p) == pytest.approx(sc.ndtri(p), rel=1e-14, abs=1e-15)
    assert np.isnan(special.ndtri(1.5)) and np.isnan(special.ndtri(-0.1))
    for x in (-40.0, -8.5, -1.96, 0.0, 0.3, 1.645, 7.0, 40.0):
        assert special.ndtr(x) == pytest.approx(sc.ndtr(x), rel=1e-13, abs=1e-300)


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
            "samplesize.paired_mde(500, 0.2)\nimport sys\n"
            "print(sorted(m for m in sys.modules if m.startswith('scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # not even scipy.special: 0.2 s of CPU a run does not spend
