"""Confidence interval and paired test of the debiased calibration error, in closed form (no resampling).

The ``ece`` metric reports ``sign(T)·sqrt(|T|)`` with ``T`` the debiased squared calibration error
(:mod:`harness.stats.calibration`)::

    T = (1/n) · sum_j  sum_{i != k in bin j} g_i·g_k / (n_j - 1),      g = correct - confidence

a sum over bins of degree-2 U-statistics. Its sampling error has two parts of the same order near perfect
calibration: a *linear* part (variance ``4·sum_j p_j·mu_j²·sigma_j²/n`` plus the bin counts' share,
where ``mu_j`` is bin ``j``'s mean gap) and a *degenerate* part (variance ``2·sum_j sigma_j⁴/n²``, what is
left when every ``mu_j = 0``). A bootstrap or plug-in variance that uses the sample's bin means in place of
``mu_j`` is biased by twice the degenerate variance (``E[gbar_j²] = mu_j² + sigma_j²/n_j``): too wide at
perfect calibration, while dropping the linear part (a pretest of perfect calibration) is too narrow for
models miscalibrated by about their bins' noise (the paired test's size was 0.11-0.40 there). Here:

* **degenerate variance** ``V_D`` — :func:`degenerate_variance`: ``2/n²·sum_{i != k} H_ik²`` with ``H_ik``
  the kernel of the (signed sum of) estimators on the within-bin residuals, from per-bin and per-cell sums
  (always >= 0; for two models the cells are the pairs (bin of A, bin of B), so what two models share
  cancels);
* **total variance** ``V = V_J - V_D`` — the jackknife variance ``V_J`` of the same statistic (leave-one-out
  values in closed form, :func:`leave_one_out`) overestimates it by ``V_D`` (Efron & Stein 1981: the
  jackknife's bias is the degenerate part), so the difference is unbiased in both regimes, at perfect
  calibration and far from it, and needs no pretest. It is floored at ``FLOOR·V_D`` (it can come out small
  or negative by chance when the linear part is about 0).

**Paired test** (:func:`paired_calibration_test`) of ``theta_a = theta_b``: ``z = (T_a - T_b)/sqrt(V)`` with
``V`` for the difference ``T_a - T_b`` (one jackknife over the examples both models scored), two-sided
normal p-value; the interval is ``T_a - T_b ± z_(1-alpha/2)·sqrt(V)`` carried to the reported root scale by
the positive factor ``delta/(T_a - T_b)`` (``delta`` = the difference of the reported values), so it
excludes 0 exactly when ``p < alpha`` — the test and the interval are one construction.

**One model's interval** (:func:`calibration_interval`): the score interval, the ``theta0 >= 0`` with
``|T - theta0| <= z·sqrt(V(theta0))``, where ``V(theta0) = V_D + A·theta0 + B·theta0²`` is the variance of
``T`` when the true squared error is ``theta0`` (``A``, ``B``: the linear part per unit ``theta``, with the
bins' relative miscalibration taken from the data); ``theta0 < 0`` is accepted within ``z·sqrt(V_D)`` so the
interval always holds the estimate. It covers a true 0 about 95% of the time (at ``theta0 = 0`` only the
degenerate variance applies) and is the Wald interval far from it.

Measured by ``benchmarks/bench_calibration_size.py`` (README, "ECE").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .calibration import gaps_by_bin, signed_sqrt
from .results import Interval, PairedTest

FloatArray = NDArray[np.float64]

__all__ = ["FLOOR", "INTERVAL_METHOD", "TEST_METHOD", "CalibrationVariance", "calibration_interval",
           "degenerate_variance", "leave_one_out", "paired_calibration_test"]

FLOOR = 0.125
"""The total variance is at least this share of the degenerate variance (chosen by simulation: 0.1 and
0.15 move the sizes at perfect calibration by about +-0.01; see the benchmark)."""

INTERVAL_METHOD = "score interval (debiased calibration error)"
TEST_METHOD = "z-test, jackknife variance (debiased calibration error)"


def _norm_quantile(p: float) -> float:
    from .special import ndtri  # without scipy.special (0.2 s of CPU)

    return ndtri(p)


def _norm_sf(x: float) -> float:
    from .special import ndtr

    return ndtr(-x)


@dataclass(frozen=True)
class _Binned:
    """One model's gaps on the common examples, with per-bin summaries."""

    bins: NDArray[np.intp]
    gaps: FloatArray
    count: FloatArray
    mean: FloatArray
    n_bins: int

    @classmethod
    def of(cls, confidence: ArrayLike, correct: ArrayLike, n_bins: int) -> _Binned:
        bins, gaps = gaps_by_bin(confidence, correct, n_bins)
        count = np.bincount(bins, minlength=n_bins).astype(np.float64)
        s1 = np.bincount(bins, weights=gaps, minlength=n_bins)
        return cls(bins, gaps, count, s1 / np.maximum(count, 1.0), n_bins)

    @property
    def residual(self) -> FloatArray:
        return self.gaps - self.mean[self.bins]

    def squared(self) -> float:
        """The debiased squared calibration error ``T``."""
        s1 = self.count * self.mean
        s2 = np.bincount(self.bins, weights=self.gaps * self.gaps, minlength=self.n_bins)
        ok = self.count >= 2
        term = np.where(ok, (s1 * s1 - s2) / np.where(ok, self.count - 1.0, 1.0), 0.0)
        return float(term.sum() / self.gaps.size)


def leave_one_out(bins: NDArray[np.intp], gaps: FloatArray, n_bins: int) -> FloatArray:
    """``T`` recomputed without example ``i``, for every ``i`` (O(n)): only that example's bin changes."""
    n = gaps.size
    count = np.bincount(bins, minlength=n_bins).astype(np.float64)
    s1 = np.bincount(bins, weights=gaps, minlength=n_bins)
    s2 = np.bincount(bins, weights=gaps * gaps, minlength=n_bins)
    ok = count >= 2
    term = np.where(ok, (s1 * s1 - s2) / np.where(ok, count - 1.0, 1.0), 0.0)
    left = count[bins] - 1.0  # the bin's count without example i
    a, b = s1[bins] - gaps, s2[bins] - gaps * gaps
    without = np.where(left >= 2, (a * a - b) / np.maximum(left - 1.0, 1.0), 0.0)
    return np.asarray((term.sum() - term[bins] + without) / max(n - 1, 1), dtype=np.float64)


def _kernel_weight(m: _Binned) -> FloatArray:
    """Per-example weight of the degenerate kernel: ``1/(n_j - 1)`` times ``n_j/(n_j - 1)``, the
    correction for using residuals from the bin's sample mean (0 in bins the estimator skips)."""
    c = m.count
    ok = c >= 2
    w = np.where(ok, c / np.where(ok, (c - 1.0) ** 2, 1.0), 0.0)
    return np.asarray(w[m.bins], dtype=np.float64)


def degenerate_variance(models: list[_Binned], signs: list[float]) -> float:
    """Variance of the degenerate part of ``sum_m signs[m]·T_m``: ``2/n²·sum_{i != k} H_ik²`` with
    ``H_ik = sum_m signs[m]·[same bin of m]·w_m·e_mi·e_mk`` on the residuals ``e`` (>= 0)."""
    n = models[0].gaps.size
    total = 0.0
    for i, (mi, si) in enumerate(zip(models, signs)):
        for j, (mj, sj) in enumerate(zip(models, signs)):
            if j < i:
                continue
            w = _kernel_weight(mi) * _kernel_weight(mj)
            x = mi.residual * mj.residual
            if i == j:
                cell, size = mi.bins, mi.n_bins
            else:
                cell, size = mi.bins * mj.n_bins + mj.bins, mi.n_bins * mj.n_bins
            first = np.bincount(cell, weights=np.sqrt(w) * x, minlength=size)
            second = np.bincount(cell, weights=w * x * x, minlength=size)
            part = float(np.sum(first * first - second))
            total += si * sj * part * (1.0 if i == j else 2.0)
    return max(0.0, 2.0 * total / (n * n))


@dataclass(frozen=True)
class CalibrationVariance:
    """``sum_m signs[m]·T_m`` and the estimates of its variance."""

    value: float
    jackknife: float
    degenerate: float

    @property
    def total(self) -> float:
        """``max(V_J - V_D, FLOOR·V_D)``: the variance used by the test."""
        return max(self.jackknife - self.degenerate, FLOOR * self.degenerate)

    @classmethod
    def of(cls, models: list[_Binned], signs: list[float]) -> CalibrationVariance:
        n = models[0].gaps.size
        value = float(sum(s * m.squared() for m, s in zip(models, signs)))
        loo = sum(s * leave_one_out(m.bins, m.gaps, m.n_bins) for m, s in zip(models, signs))
        loo = np.asarray(loo, dtype=np.float64)
        jack = float((n - 1) / n * np.sum((loo - loo.mean()) ** 2)) if n > 1 else 0.0
        return cls(value, jack, degenerate_variance(models, signs))


def _check(n: int) -> None:
    if n < 3:
        raise ValueError("need at least 3 examples")


def paired_calibration_test(confidence_a: ArrayLike, correct_a: ArrayLike, confidence_b: ArrayLike,
                            correct_b: ArrayLike, n_bins: int = 10, alpha: float = 0.05) -> PairedTest:
    """Test of equal calibration errors of two models on the same examples (module docstring).

    ``delta`` is the difference of the reported (root-scale) values; ``low``/``high`` its (1 - alpha)
    interval; ``statistic`` the z statistic on the squared scale. Raises ValueError when the two models'
    calibration errors have no estimated sampling variance but differ (nothing to test against)."""
    a = _Binned.of(confidence_a, correct_a, n_bins)
    b = _Binned.of(confidence_b, correct_b, n_bins)
    if a.gaps.size != b.gaps.size:
        raise ValueError("the two models must be scored on the same examples")
    _check(a.gaps.size)
    ta, tb = a.squared(), b.squared()
    delta = float(signed_sqrt(ta) - signed_sqrt(tb))
    var = CalibrationVariance.of([a, b], [1.0, -1.0])
    diff, v = var.value, var.total
    if v <= 0.0:
        if diff == 0.0:  # the same confidences and correctness on every example: no difference at all
            return PairedTest(delta, 0.0, 0.0, 1.0, TEST_METHOD, statistic=0.0)
        raise ValueError("the calibration errors show no sampling variation to test against")
    se = float(np.sqrt(v))
    z = diff / se
    p = min(1.0, 2.0 * _norm_sf(abs(z)))
    half = _norm_quantile(1.0 - alpha / 2.0) * se
    if diff != 0.0:
        scale = delta / diff
    else:
        roots = np.sqrt(abs(ta)) + np.sqrt(abs(tb))
        scale = 1.0 / roots if roots > 0 else 1.0 / (2.0 * np.sqrt(se))
    return PairedTest(delta, (diff - half) * scale, (diff + half) * scale, p, TEST_METHOD, statistic=z)


def _linear_per_theta(m: _Binned) -> tuple[float, float]:
    """``(A, B)``: the linear variance of ``T`` is about ``A·theta + B·theta²`` when the bins' mean gaps are
    the sample's, scaled to a squared error ``theta``."""
    n = m.gaps.size
    ok = m.count >= 2
    p = m.count / n
    s2 = np.bincount(m.bins, weights=m.residual ** 2, minlength=m.n_bins)
    var = np.where(ok, s2 / np.where(ok, m.count - 1.0, 1.0), 0.0)
    g2 = np.where(ok, m.mean * m.mean, 0.0)
    plug = float(np.sum(p * g2))
    if plug <= 0.0:
        return float(4.0 * np.sum(p * var) / n), 0.0
    a = float(4.0 * np.sum(p * g2 * var) / (n * plug))
    b = float(max(0.0, np.sum(p * g2 * g2) / plug ** 2 - 1.0) / n)
    return a, b


def calibration_interval(confidence: ArrayLike, correct: ArrayLike, n_bins: int = 10,
                         alpha: float = 0.05) -> Interval:
    """Score interval of one model's debiased calibration error, on the reported (signed-root) scale."""
    m = _Binned.of(confidence, correct, n_bins)
    _check(m.gaps.size)
    t = m.squared()
    value = float(signed_sqrt(t))
    vd = CalibrationVariance.of([m], [1.0]).degenerate
    a, b = _linear_per_theta(m)
    z = _norm_quantile(1.0 - alpha / 2.0)
    z2 = z * z
    pieces: list[tuple[float, float]] = []
    half = z * float(np.sqrt(vd))
    if t - half < 0.0:  # theta0 < 0: only the degenerate variance
        pieces.append((t - half, min(t + half, 0.0)))
    quad = 1.0 - z2 * b  # theta0 >= 0: (1 - z²B)·x² - (2T + z²A)·x + T² - z²V_D <= 0
    lin = 2.0 * t + z2 * a
    const = t * t - z2 * vd
    if quad > 0.0:
        disc = lin * lin - 4.0 * quad * const
        if disc >= 0.0:
            root = float(np.sqrt(disc))
            low, high = (lin - root) / (2.0 * quad), (lin + root) / (2.0 * quad)
            if high >= 0.0:
                pieces.append((max(low, 0.0), high))
    else:  # too few examples for the quadratic term: no finite upper limit but the largest possible
        pieces.append((max(0.0, t - half), 1.0))
    if not pieces:  # cannot happen (theta0 = T is always accepted); keep the estimate as a safe fallback
        pieces.append((t, t))
    low = min(p[0] for p in pieces)
    high = min(1.0, max(p[1] for p in pieces))
    return Interval(value, float(signed_sqrt(low)), float(signed_sqrt(high)), INTERVAL_METHOD)
