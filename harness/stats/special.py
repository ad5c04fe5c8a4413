"""The special functions a default run's statistics and data checks need, without importing scipy.

``import scipy.special`` costs about 0.2 s of CPU (it brings ``numpy.testing``, ``numpy.f2py``, ``numpy.ma`` and
the array-API layer), a fifth of what ``harness run`` does besides its requests. What a run evaluates is few and
small: normal quantiles and tails of a handful of scalars, chi-square tails, and binomial probabilities over a
few thousand arguments for the exact McNemar test and its power. They are computed here to about 1e-12
relative where a test is decided (binomial terms: for up to ~10^5 trials; log Gamma's rounding makes it ~1e-9
at millions), 1e-10 down to 1e-250 (``tests/stats/test_stats_distributions.py`` checks
them against scipy on grids of arguments; results.json is the same to 1e-9), from

* :class:`statistics.NormalDist` (Wichura's AS241, accurate to about 1e-16) and :func:`math.erfc`;
* the regularized incomplete gamma function (series and Lentz's continued fraction) for chi-square tails;
* the regularized incomplete beta function (Lentz's continued fraction), vectorised over numpy arrays, with
  ``log Gamma`` of integers from :func:`math.lgamma`, for binomial tails.
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist
from typing import Any

import numpy as np

_STD = NormalDist()
_TINY = 1e-300
_EPS = 1e-16


def ndtri(p: float) -> float:
    """The standard normal quantile (``scipy.special.ndtri``): -inf at 0, inf at 1, NaN outside [0, 1]."""
    p = float(p)
    if not 0.0 <= p <= 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    return _STD.inv_cdf(p)


def ndtr(x: float) -> float:
    """The standard normal distribution function (``scipy.special.ndtr``)."""
    x = float(x)
    if math.isnan(x):
        return math.nan
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def gammaincc(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(a, x) for a > 0, x >= 0."""
    if math.isnan(a) or math.isnan(x) or a <= 0 or x < 0:
        return math.nan
    if x == 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    log_pre = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:  # the series of P(a, x), Q = 1 - P
        term = total = 1.0 / a
        ap = a
        for _ in range(100_000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return max(0.0, 1.0 - total * math.exp(log_pre))
    # Q's continued fraction (modified Lentz)
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(log_pre) * h


def chdtrc(df: float, x: float) -> float:
    """The chi-square survival function (``scipy.special.chdtrc``): Q(df/2, x/2)."""
    if x < 0:
        return 1.0
    if df == 1:
        return math.erfc(math.sqrt(x / 2.0))
    if df == 2:
        return math.exp(-x / 2.0)
    return gammaincc(df / 2.0, x / 2.0)


@lru_cache(maxsize=8)
def _log_gamma_table(top: int) -> np.ndarray:
    """``log Gamma(m)`` for m = 0..top (m = 0: inf), each from :func:`math.lgamma`."""
    out = np.empty(top + 1)
    out[0] = math.inf
    out[1:] = [math.lgamma(m) for m in range(1, top + 1)]
    out.setflags(write=False)
    return out


_TABLE_MAX = 1 << 21


def _lgamma_int(m: np.ndarray) -> np.ndarray:
    top = int(m.max()) if m.size else 1
    if top >= _TABLE_MAX:  # millions of disagreements: only the values asked for
        return np.array([math.lgamma(v) if v > 0 else math.inf for v in m.astype(np.int64).ravel().tolist()]
                        ).reshape(m.shape)
    table = _log_gamma_table(max(1 << max(top - 1, 1).bit_length(), 16))  # a few sizes, each reused
    return table[m.astype(np.int64)]


def _betacf(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The continued fraction of the incomplete beta function (modified Lentz), element-wise."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = np.where(np.abs(d) < _TINY, _TINY, d)
    d = 1.0 / d
    h = d.copy()
    active = np.ones(x.shape, dtype=bool)
    for m in range(1, 100_000):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        am, bm, xm = a[idx], b[idx], x[idx]
        m2 = 2.0 * m
        aa = m * (bm - m) * xm / ((qam[idx] + m2) * (am + m2))
        dd = 1.0 + aa * d[idx]
        dd = 1.0 / np.where(np.abs(dd) < _TINY, _TINY, dd)
        cc = 1.0 + aa / c[idx]
        cc = np.where(np.abs(cc) < _TINY, _TINY, cc)
        hh = h[idx] * dd * cc
        aa = -(am + m) * (qab[idx] + m) * xm / ((am + m2) * (qap[idx] + m2))
        dd = 1.0 + aa * dd
        dd = 1.0 / np.where(np.abs(dd) < _TINY, _TINY, dd)
        cc = 1.0 + aa / cc
        cc = np.where(np.abs(cc) < _TINY, _TINY, cc)
        delta = dd * cc
        hh *= delta
        h[idx], d[idx], c[idx] = hh, dd, cc
        active[idx] = np.abs(delta - 1.0) >= _EPS
    return h


def betainc_int(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The regularized incomplete beta function I_x(a, b) for positive integers ``a``, ``b`` and x in [0, 1]."""
    a, b, x = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(a, b, x))
    out = np.where(x >= 1.0, 1.0, 0.0)
    inside = (x > 0.0) & (x < 1.0)
    if not inside.any():
        return out
    ai, bi, xi = a[inside], b[inside], x[inside]
    ia, ib = ai.astype(np.int64), bi.astype(np.int64)
    log_front = (_lgamma_int(ia + ib) - _lgamma_int(ia) - _lgamma_int(ib) + ai * np.log(xi) + bi * np.log1p(-xi))
    front = np.exp(log_front)
    direct = xi < (ai + 1.0) / (ai + bi + 2.0)  # else I_x(a, b) = 1 - I_{1-x}(b, a), which converges there
    # one continued fraction for both kinds (it is element-wise: no value depends on the others)
    cf = _betacf(np.where(direct, ai, bi), np.where(direct, bi, ai), np.where(direct, xi, 1.0 - xi))
    res = np.where(direct, front * cf / ai, 1.0 - front * cf / bi)
    out[inside] = np.clip(res, 0.0, 1.0)
    return out


def binom_pmf_int(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> Any:
    """P(X = k) for X ~ Binomial(n, p), integers 0 <= k <= n, p in [0, 1]."""
    k, n, p = np.broadcast_arrays(np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64),
                                  np.asarray(p, dtype=np.float64))
    ik, i_n = k.astype(np.int64), n.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_c = _lgamma_int(i_n + 1) - _lgamma_int(ik + 1) - _lgamma_int(i_n - ik + 1)
        log_p = np.where(k > 0, k * np.log(p), 0.0) + np.where(n - k > 0, (n - k) * np.log1p(-p), 0.0)
        out = np.exp(log_c + log_p)
    return np.where(np.isnan(out), 0.0, out)
