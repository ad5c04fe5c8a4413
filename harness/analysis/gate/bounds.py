"""One-sided confidence bounds at any level, and the p-values that invert them: the constructions the gate
judges with.

A :class:`Bounds` gives, for a level ``a``, the one-sided ``(1 - a)`` lower and upper confidence bounds of a
value (the limits of the two-sided ``1 - 2a`` interval). Its p-values are the *same construction inverted*:
``p_below(t)`` is the smallest level at which the upper bound lies below ``t`` and ``p_above(t)`` the smallest
at which the lower bound lies above ``t``, so "p <= alpha" and "the bound at alpha lies beyond t" are one
statement (up to ties at exactly alpha). Where the inversion has a closed form it is used; otherwise it is
found by a root search (:func:`smallest_level`).

* :class:`Search` — bounds from a function of the level (a plugin's closed-form interval or test: DeLong,
  Wilson...); p-values by search.
* :class:`OrderStatistics` — the bootstrap: the percentile interval ``[d_(k), d_(B+1-k)]`` of the resampled
  values with ``k`` from :func:`harness.stats.bootstrap.order_rank` (the interval results.json shows), and
  the p-value ``(1/2 + #{d >= t}) / (B + 1)`` that inverts it exactly.
* :class:`ExactPairedBinary` — the difference of two means of paired 0/1 scores (accuracy): the exact
  conditional (binomial) McNemar test and bounds built on it. Conditional on the ``N`` discordant pairs, the
  number ``x`` where only the first is right is Binomial(N, θ) and the difference is ``p_d·(2θ − 1)``, with
  ``p_d`` the share of discordant pairs. The bounds combine the Clopper–Pearson bound of θ with the less
  favourable Clopper–Pearson bound of ``p_d`` at the same level, so at threshold 0 the decision is exactly the
  one-sided exact McNemar test (whose size never exceeds its level, whatever ``n``), and with a margin it is
  no less conservative. No discordant pair gives bounds of ``±`` the largest discordant share the data allow,
  not a degenerate 0.
* :class:`ExactProportion` — one mean of 0/1 scores: Clopper–Pearson bounds, exact binomial p-values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...stats.bootstrap import order_rank, too_often_undefined

# scipy loads on first use (the CLI starts without it)

LEVEL_MIN = 1e-9  # p-values below this are reported as this
LEVEL_MAX = 0.4999  # a one-sided level of 0.5 is the point estimate itself


class Bounds:
    """One-sided bounds at any level; p-values by inverting them (subclasses may give closed forms)."""

    method: str = ""

    def at(self, level: float) -> tuple[float, float]:  # pragma: no cover - interface
        """The one-sided ``(1 - level)`` (lower, upper) bounds; infinite where there is no bound."""
        raise NotImplementedError

    def p_below(self, t: float) -> float:
        """One-sided p-value of "the value is at least t" (small when the data show it below t)."""
        return _p_value(lambda a: self.at(a)[1] - t, lambda a: t - self.at(a)[0])

    def p_above(self, t: float) -> float:
        """One-sided p-value of "the value is at most t" (small when the data show it above t)."""
        return _p_value(lambda a: t - self.at(a)[0], lambda a: self.at(a)[1] - t)


class Search(Bounds):
    """Bounds from ``fn(level) -> (low, high)``: the limits of a method's two-sided ``1 - 2·level`` interval."""

    def __init__(self, fn: Callable[[float], tuple[float, float]], method: str) -> None:
        self.fn, self.method = fn, method

    def at(self, level: float) -> tuple[float, float]:
        low, high = self.fn(level)
        return float(low), float(high)


class Negated(Bounds):
    """The bounds of ``-value``."""

    def __init__(self, inner: Bounds) -> None:
        self.inner, self.method = inner, inner.method

    def at(self, level: float) -> tuple[float, float]:
        low, high = self.inner.at(level)
        return -high, -low

    def p_below(self, t: float) -> float:
        return self.inner.p_above(-t)

    def p_above(self, t: float) -> float:
        return self.inner.p_below(-t)


class OrderStatistics(Bounds):
    """The percentile bootstrap: bounds ``d_(k)`` and ``d_(B+1-k)`` with ``k = order_rank(B, 2·level)``."""

    method = "paired-bootstrap"

    def __init__(self, draws: np.ndarray, method: str | None = None) -> None:
        d = np.asarray(draws, dtype=float)
        kept = d[~np.isnan(d)]
        # a metric undefined on many resamples (a class too rare) has no trustworthy bounds: none, as compare
        self.draws = np.sort(kept) if not too_often_undefined(kept.size, d.size) else kept[:0]
        if method:
            self.method = method

    @property
    def size(self) -> int:
        return int(self.draws.size)

    def at(self, level: float) -> tuple[float, float]:
        k = order_rank(self.size, 2.0 * level)
        if k < 1 or self.size == 0:
            return -np.inf, np.inf
        return float(self.draws[k - 1]), float(self.draws[self.size - k])

    def p_below(self, t: float) -> float:
        # d_(B+1-k) < t  <=>  #{d >= t} <= k - 1  <=>  level > (#{d >= t} + 1/2) / (B + 1)
        at_least = self.size - int(np.searchsorted(self.draws, t, side="left"))
        return min(1.0, (at_least + 0.5) / (self.size + 1))

    def p_above(self, t: float) -> float:
        at_most = int(np.searchsorted(self.draws, t, side="right"))
        return min(1.0, (at_most + 0.5) / (self.size + 1))


def _cp_lower(k: Any, n: Any, level: float) -> Any:
    """Clopper–Pearson one-sided lower bound of a proportion, ``k`` of ``n`` (arrays allowed)."""
    from scipy.stats import beta

    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore"):
        out = beta.ppf(level, np.maximum(k, 1.0), np.maximum(n - k + 1.0, 1.0))
    return np.where(k <= 0, 0.0, out)


def _cp_upper(k: Any, n: Any, level: float) -> Any:
    from scipy.stats import beta

    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore"):
        out = beta.ppf(1.0 - level, k + 1.0, np.maximum(n - k, 1.0))
    return np.where(k >= n, 1.0, out)


def paired_binary_limits(x: Any, y: Any, n: int, level: float) -> tuple[Any, Any]:
    """The one-sided ``(1 - level)`` (lower, upper) bounds of :class:`ExactPairedBinary` for arrays of
    ``x`` and ``y`` (rows where only the first / only the second is 1) out of ``n``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n_d = x + y
    share_low, share_high = _cp_lower(n_d, n, level), _cp_upper(n_d, n, level)
    theta_low, theta_high = _cp_lower(x, n_d, level), _cp_upper(x, n_d, level)
    upper = (2.0 * theta_high - 1.0) * np.where(theta_high < 0.5, share_low, share_high)
    lower = (2.0 * theta_low - 1.0) * np.where(theta_low < 0.5, share_high, share_low)
    return lower, upper


class ExactProportion(Bounds):
    """``k`` of ``n`` 0/1 scores: Clopper–Pearson bounds; p-values from the exact binomial test."""

    method = "clopper-pearson (exact binomial)"

    def __init__(self, k: int, n: int) -> None:
        self.k, self.n = int(k), int(n)

    def at(self, level: float) -> tuple[float, float]:
        return float(_cp_lower(self.k, self.n, level)), float(_cp_upper(self.k, self.n, level))

    def p_below(self, t: float) -> float:
        from scipy.stats import binom

        if t <= 0.0:
            return 1.0
        if t > 1.0:
            return LEVEL_MIN
        return float(binom.cdf(self.k, self.n, t))  # upper < t  <=>  level > P(X <= k; t)

    def p_above(self, t: float) -> float:
        from scipy.stats import binom

        if t >= 1.0:
            return 1.0
        if t < 0.0:
            return LEVEL_MIN
        return float(binom.sf(self.k - 1, self.n, t))  # lower > t  <=>  level > P(X >= k; t)


class ExactPairedBinary(Bounds):
    """``mean(first) - mean(second)`` for paired 0/1 scores on ``n`` rows: ``x`` rows where only the first
    is 1 and ``y`` where only the second is (see the module docstring)."""

    method = "exact conditional McNemar (one-sided) / Clopper-Pearson"

    def __init__(self, x: int, y: int, n: int) -> None:
        self.x, self.y, self.n = int(x), int(y), int(n)
        self.discordant = self.x + self.y

    @property
    def value(self) -> float:
        return (self.x - self.y) / self.n

    def at(self, level: float) -> tuple[float, float]:
        lower, upper = paired_binary_limits(self.x, self.y, self.n, level)
        return float(lower), float(upper)

    def p_below(self, t: float) -> float:
        from scipy.stats import binom

        if t == 0.0:  # the one-sided exact McNemar test: upper < 0  <=>  level > P(X <= x; N, 1/2)
            return float(binom.cdf(self.x, self.discordant, 0.5))
        return super().p_below(t)

    def p_above(self, t: float) -> float:
        from scipy.stats import binom

        if t == 0.0:
            return float(binom.sf(self.x - 1, self.discordant, 0.5))
        return super().p_above(t)


def smallest_level(gap: Callable[[float], float]) -> float | None:
    """The smallest level ``a`` in [LEVEL_MIN, LEVEL_MAX] with ``gap(a) < 0`` (the bound is past the
    threshold), or None when there is none. ``gap`` grows as the level falls (bounds widen), so the search
    runs on ``z = Φ⁻¹(1 - a)``, where Wald-type bounds are straight lines: regula falsi (Illinois) finds the
    crossing in a few steps, and bisection every third step keeps it safe for bounds that are not."""
    from scipy.special import ndtr, ndtri

    def level(z: float) -> float:
        return float(ndtr(-z))

    z_lo, z_hi = float(ndtri(1.0 - LEVEL_MAX)), float(ndtri(1.0 - LEVEL_MIN))
    f_lo = gap(LEVEL_MAX)
    if not f_lo < 0:
        return None
    f_hi = gap(LEVEL_MIN)
    if f_hi < 0:
        return LEVEL_MIN
    if not np.isfinite(f_hi):
        f_hi = 1e300
    side = 0
    for step in range(100):  # invariant: gap < 0 at z_lo (shown), >= 0 at z_hi
        if z_hi - z_lo < 1e-10:
            break
        z = (z_lo + z_hi) / 2.0
        if step % 3 != 2 and f_hi != f_lo:
            z_sec = z_hi - f_hi * (z_hi - z_lo) / (f_hi - f_lo)
            if z_lo < z_sec < z_hi:
                z = z_sec
        f = gap(level(z))
        if f < 0:
            z_lo, f_lo = z, f
            if side == -1:
                f_hi /= 2.0
            side = -1
        else:
            z_hi, f_hi = z, (f if np.isfinite(f) else 1e300)
            if side == 1:
                f_lo /= 2.0
            side = 1
    return max(LEVEL_MIN, level(z_lo))


def _p_value(gap: Callable[[float], float], opposite: Callable[[float], float]) -> float:
    p = smallest_level(gap)
    if p is not None:
        return p
    q = smallest_level(opposite)  # the data point the other way: p = 1 - q
    return 0.5 if q is None else 1.0 - q
