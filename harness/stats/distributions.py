"""The few distribution functions the statistics need, without importing ``scipy.stats`` or ``scipy.special``.

``scipy.stats`` takes 0.5-0.8 s to import and ``scipy.special`` 0.2 s of CPU, more than the rest of a 1,000-example
run's statistics. Everything here is computed by :mod:`harness.stats.special` with the support's edges handled
as ``scipy.stats`` handles them; the numbers agree with scipy's to about 1e-12 relative where tests are decided
(``tests/stats`` checks them on grids of arguments):

* ``binom_cdf``, ``binom_pmf``, ``binom_sf`` — ``scipy.stats.binom.cdf / pmf / sf`` (incomplete beta);
* ``norm_sf`` — ``scipy.stats.norm.sf``; ``chi2_sf`` — ``scipy.stats.chi2.sf``;
* ``rankdata`` — ``scipy.stats.rankdata`` with average ranks for ties, in numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .special import betainc_int, binom_pmf_int, chdtrc, ndtr

__all__ = ["binom_cdf", "binom_cdf_plus_sf", "binom_pmf", "binom_sf", "chi2_sf", "norm_sf", "rankdata"]

FloatArray = NDArray[np.float64]


def _args(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    k_, n_, p_ = np.broadcast_arrays(np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64),
                                     np.asarray(p, dtype=np.float64))
    valid = (n_ >= 0) & (np.floor(n_) == n_) & (p_ >= 0) & (p_ <= 1)  # rv_discrete's argument check
    return k_, n_, p_, valid


def _out(x: np.ndarray) -> Any:
    return x[()] if x.ndim == 0 else x


def _cdf_part(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """``binom.cdf`` at the support's edges, and where it is inside: the mask and I_x(a, b)'s arguments."""
    k_, n_, p_, valid = _args(k, n, p)
    out = np.zeros(k_.shape)
    out[(k_ >= n_) & valid] = 1.0
    out[~valid | np.isnan(k_)] = np.nan
    inside = valid & (k_ >= 0) & (k_ < n_) & np.isfinite(k_)
    kk, nn = np.floor(k_[inside]), n_[inside]
    return out, inside, (nn - kk, kk + 1.0, 1.0 - p_[inside])


def _sf_part(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """The same for ``binom.sf``."""
    k_, n_, p_, valid = _args(k, n, p)
    out = np.zeros(k_.shape)
    out[~valid | np.isnan(k_)] = np.nan
    out[((k_ < 0) | np.isneginf(k_)) & valid] = 1.0
    inside = valid & (k_ >= 0) & (k_ < n_) & np.isfinite(k_)
    kk, nn = np.floor(k_[inside]), n_[inside]
    return out, inside, (kk + 1.0, nn - kk, p_[inside])


def _finish(*parts: tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]) -> list[np.ndarray]:
    """Fill the inside of every part from one :func:`betainc_int` call (element-wise, so a value is the same as
    from a call of its own)."""
    sizes = [int(inside.sum()) for _, inside, _ in parts]
    if sum(sizes):
        a, b, x = (np.concatenate([args[i] for _, _, args in parts]) for i in range(3))
        values = betainc_int(a, b, x)
        start = 0
        for (out, inside, _), size in zip(parts, sizes):
            out[inside] = values[start:start + size]
            start += size
    return [out for out, _, _ in parts]


def binom_cdf(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> Any:
    """``scipy.stats.binom.cdf(k, n, p)``."""
    return _out(_finish(_cdf_part(k, n, p))[0])


def binom_sf(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> Any:
    """``scipy.stats.binom.sf(k, n, p)``."""
    return _out(_finish(_sf_part(k, n, p))[0])


def binom_cdf_plus_sf(k_low: ArrayLike, k_high: ArrayLike, n: ArrayLike, p: ArrayLike) -> Any:
    """``binom.cdf(k_low, n, p) + binom.sf(k_high, n, p)`` (a two-sided rejection probability), in one pass."""
    low, high = _finish(_cdf_part(k_low, n, p), _sf_part(k_high, n, p))
    return _out(low + high)


def binom_pmf(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> Any:
    """``scipy.stats.binom.pmf(k, n, p)``."""
    k_, n_, p_, valid = _args(k, n, p)
    out = np.zeros(k_.shape)
    out[~valid | np.isnan(k_)] = np.nan
    inside = valid & (k_ >= 0) & (k_ <= n_) & (np.floor(k_) == k_)
    if inside.any():
        out[inside] = np.clip(binom_pmf_int(k_[inside], n_[inside], p_[inside]), 0, 1)
    return _out(out)


def norm_sf(x: ArrayLike) -> Any:
    """``scipy.stats.norm.sf(x)``: ``ndtr(-x)``."""
    x_ = np.asarray(x, dtype=np.float64)
    return _out(np.asarray(np.vectorize(ndtr, otypes=[np.float64])(-x_)) if x_.size else -x_)


def chi2_sf(x: ArrayLike, df: ArrayLike) -> Any:
    """``scipy.stats.chi2.sf(x, df)`` for ``df > 0``: ``chdtrc(df, x)`` (1 below 0, as scipy.stats)."""
    x_ = np.asarray(x, dtype=np.float64)
    df_ = np.asarray(df, dtype=np.float64)
    out = np.vectorize(chdtrc, otypes=[np.float64])(df_, x_) if x_.size else x_
    return _out(np.asarray(out, dtype=np.float64))


def rankdata(values: ArrayLike) -> FloatArray:
    """Ranks from 1, ties given the average of their ranks (``scipy.stats.rankdata``'s default)."""
    x = np.asarray(values).ravel()
    n = x.size
    order = np.argsort(x, kind="mergesort")
    s = x[order]
    start = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if n else np.zeros(0, dtype=np.intp)
    end = np.r_[start[1:], n]  # one past the last of each tie group
    avg = 0.5 * (start + 1 + end)  # mean of ranks start+1 .. end
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(avg, end - start)
    return ranks
