"""The gate's statistics, behind one small interface.

:func:`paired` is the one function the rules use to compare two models: for a metric and the two models'
aligned :class:`~harness.metrics.MetricData` (candidate, reference) it returns an :class:`Estimate` of
``metric(candidate) - metric(reference)`` on the rows both models can be scored on — the point value, the
one-sided confidence bounds at any level, the p-value of any threshold, the rows used and the method.
:func:`single` does the same for one model's own value (floors and ceilings) and :func:`unpaired` combines a
candidate with a stored reference that has no per-example predictions.

Today's paired machinery does the work: the metric plugin's closed-form test (:meth:`Metric.paired_test`:
Agresti-Min / McNemar for accuracy, DeLong for binary AUROC) or interval (:meth:`Metric.interval`), else the
paired bootstrap of :mod:`harness.stats.bootstrap` (both models' statistics on the same resamples, through
the plugin's :meth:`Metric.resampler` fast path where it has one). The rules see only :class:`Estimate`, so
pointing this module at other machinery changes no rule.

**One construction.** A one-sided bound at level ``a`` is a limit of the two-sided ``1 - 2a`` interval the
method gives (equal-tailed: Wald-type for Agresti-Min and DeLong, percentiles for the bootstrap). A p-value
is *that interval inverted*: the smallest ``a`` at which the bound passes the threshold, found by bisection.
So "p <= alpha" and "the bound at alpha lies beyond the threshold" are the same statement, for any margin.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ...metrics import Metric, MetricData, NotAvailable, evaluate
from ...stats.bootstrap import bootstrap_draws, generic_resampled

LEVEL_MIN = 1e-9  # p-values below this are reported as this
LEVEL_MAX = 0.4999  # a one-sided level of 0.5 is the point estimate itself
MIN_RESAMPLES = 0.5  # a bootstrap needs the metric defined on at least half of the resamples


class NotJudged(Exception):
    """The data cannot answer the rule (a metric not available, no rows in common...): fail closed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


Bounds = Callable[[float], tuple[float, float]]


@dataclass
class Estimate:
    """A value (a difference candidate - reference, or one model's value) and its confidence bounds.

    ``bounds(a)`` gives the one-sided ``(1 - a)`` lower and upper confidence bounds (the limits of the
    two-sided ``1 - 2a`` interval). ``n`` is the number of examples used.
    """

    value: float
    n: int
    method: str
    bounds_at: Bounds
    candidate: float | None = None
    reference: float | None = None
    paired: bool = True
    _cache: dict[float, tuple[float, float]] = field(default_factory=dict, repr=False)

    def bounds(self, level: float) -> tuple[float, float]:
        level = min(max(level, LEVEL_MIN), LEVEL_MAX)
        if level not in self._cache:
            low, high = self.bounds_at(level)
            if not (math.isfinite(low) and math.isfinite(high)):
                raise NotJudged(f"{self.method} gave no confidence bound")
            self._cache[level] = (float(low), float(high))
        return self._cache[level]

    def lower(self, level: float) -> float:
        return self.bounds(level)[0]

    def upper(self, level: float) -> float:
        return self.bounds(level)[1]

    def p_below(self, threshold: float) -> float:
        """One-sided p-value of "the true value is at least ``threshold``": small when the data show the
        value below it. Equals the smallest level at which the upper bound lies below ``threshold``."""
        return _p_value(lambda a: self.upper(a) - threshold, lambda a: threshold - self.lower(a))

    def p_above(self, threshold: float) -> float:
        """One-sided p-value of "the true value is at most ``threshold``" (small when shown above it)."""
        return _p_value(lambda a: threshold - self.lower(a), lambda a: self.upper(a) - threshold)

    def standard_error(self, alpha: float) -> float:
        """The spread of the estimate implied by its bounds at ``alpha`` (exact for Wald-type methods)."""
        from scipy.special import ndtri

        low, high = self.bounds(alpha)
        return (high - low) / (2.0 * float(ndtri(1.0 - alpha)))


def _smallest_level(gap: Callable[[float], float]) -> float | None:
    """The smallest level ``a`` in [LEVEL_MIN, LEVEL_MAX] with ``gap(a) < 0`` (the bound is past the
    threshold), or None when there is none. ``gap`` grows as the level falls (bounds widen), so the search
    runs on ``z = Φ⁻¹(1 - a)``, where Wald-type bounds are straight lines: regula falsi (Illinois) finds the
    crossing in a few steps, and bisection every third step keeps it safe for the bootstrap's step function."""
    from scipy.special import ndtr, ndtri

    def level(z: float) -> float:
        return float(ndtr(-z))

    z_lo, z_hi = float(ndtri(1.0 - LEVEL_MAX)), float(ndtri(1.0 - LEVEL_MIN))
    f_lo = gap(LEVEL_MAX)
    if f_lo >= 0:
        return None
    f_hi = gap(LEVEL_MIN)
    if f_hi < 0:
        return LEVEL_MIN
    side = 0
    for step in range(80):  # invariant: gap < 0 at z_lo (shown), >= 0 at z_hi
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
            z_hi, f_hi = z, f
            if side == 1:
                f_lo /= 2.0
            side = 1
    return max(LEVEL_MIN, level(z_lo))


def _p_value(gap: Callable[[float], float], opposite: Callable[[float], float]) -> float:
    p = _smallest_level(gap)
    if p is not None:
        return p
    q = _smallest_level(opposite)  # the data point the other way: p = 1 - q
    return 0.5 if q is None else 1.0 - q


def _statistic(metric: Metric, data: MetricData) -> Callable[[np.ndarray], np.ndarray]:
    """The metric on every row of a chunk of bootstrap counts: the plugin's fast path, else one
    ``compute`` call per resample; NaN where the metric is undefined on a resample."""
    try:
        fast = metric.resampler(data)
    except NotAvailable:
        fast = None
    if fast is None:
        def one(idx: np.ndarray) -> float:
            try:
                return float(metric.compute(data.take(idx)))
            except NotAvailable:
                return float("nan")
        fast = generic_resampled(one)

    def stat(w: np.ndarray) -> np.ndarray:
        try:
            return np.asarray(fast(w), dtype=float)
        except NotAvailable:
            return np.full(w.shape[0], np.nan)
    return stat


def _percentile_bounds(draws: np.ndarray, what: str, n_resamples: int) -> Bounds:
    d = draws[~np.isnan(draws)]
    if d.size < MIN_RESAMPLES * n_resamples or d.size < 20:
        raise NotJudged(f"{what} is undefined on {n_resamples - d.size} of {n_resamples} bootstrap resamples")

    def bounds(a: float) -> tuple[float, float]:
        low, high = np.quantile(d, [a, 1.0 - a])
        return float(low), float(high)
    return bounds


def scored_rows(metric: Metric, *datas: MetricData) -> np.ndarray:
    """The rows every given model can be scored on for this metric: all rows for label metrics (failed and
    invalid outputs count as wrong), the rows with probabilities for probability metrics."""
    rows = np.ones(datas[0].n, dtype=bool)
    if metric.needs_proba:
        for d in datas:
            rows &= d.has_proba()
    return rows


def _value(metric: Metric, data: MetricData, who: str) -> float:
    v = evaluate(metric, data)
    if v.value is None:
        raise NotJudged(f"{metric.name} is not available for the {who}: {v.reason}")
    return float(v.value)


def _subset(data: MetricData, rows: np.ndarray) -> MetricData:
    return data if rows.all() else data.take(np.flatnonzero(rows))


def paired(metric: Metric, candidate: MetricData, reference: MetricData, *, n_resamples: int = 1000,
           seed: int = 0) -> Estimate:
    """``metric(candidate) - metric(reference)`` on the rows both models can be scored on, paired row by row
    (the two MetricData must be aligned: row i is the same example in both)."""
    if candidate.n != reference.n:
        raise ValueError("candidate and reference are not aligned")
    rows = scored_rows(metric, candidate, reference)
    n = int(rows.sum())
    if n == 0:
        for data, who in ((candidate, "candidate"), (reference, "reference")):
            _value(metric, data, who)  # says which model has no such metric, and why
        raise NotJudged(f"{metric.name}: no example can be scored for both models")
    c, r = _subset(candidate, rows), _subset(reference, rows)
    vc, vr = _value(metric, c, "candidate"), _value(metric, r, "reference")

    method = ["closed form"]

    def closed(a: float) -> tuple[float, float]:
        t = metric.paired_test(c, r, 2.0 * a)
        if t is None:
            raise NotAvailable("no closed-form test")
        method[0] = t.method
        return t.low, t.high

    try:
        first = closed(0.025)
        if all(math.isfinite(x) for x in first):
            return Estimate(vc - vr, n, method[0], closed, vc, vr)
    except (NotAvailable, ValueError, ZeroDivisionError, FloatingPointError):
        pass  # e.g. DeLong with a single positive: the bootstrap below, or not judged
    draws = bootstrap_draws({"c": _statistic(metric, c), "r": _statistic(metric, r)}, n, n_resamples, seed)
    bounds = _percentile_bounds(draws["c"] - draws["r"], f"the difference in {metric.name}", n_resamples)
    return Estimate(vc - vr, n, "paired-bootstrap", bounds, vc, vr)


def single(metric: Metric, data: MetricData, *, n_resamples: int = 1000, seed: int = 0) -> Estimate:
    """One model's own value with its confidence bounds (the plugin's interval, else the bootstrap)."""
    rows = scored_rows(metric, data)
    n = int(rows.sum())
    if n == 0:
        raise NotJudged(f"{metric.name}: no example can be scored")
    d = _subset(data, rows)
    v = _value(metric, d, "candidate")

    method = ["closed form"]

    def closed(a: float) -> tuple[float, float]:
        iv = metric.interval(d, 2.0 * a)
        if iv is None:
            raise NotAvailable("no closed-form interval")
        method[0] = iv.method
        return iv.low, iv.high

    try:
        first = closed(0.025)
        if all(math.isfinite(x) for x in first):
            return Estimate(v, n, method[0], closed, v, None)
    except (NotAvailable, ValueError, ZeroDivisionError, FloatingPointError):
        pass
    draws = bootstrap_draws({"x": _statistic(metric, d)}, n, n_resamples, seed)["x"]
    return Estimate(v, n, "bootstrap-percentile", _percentile_bounds(draws, metric.name, n_resamples), v, None)


def unpaired(candidate: Estimate, reference: float, reference_low: float, reference_high: float,
             reference_alpha: float) -> Estimate:
    """candidate - reference without pairing: a normal approximation whose spread adds the two models'
    (each read off its own two-sided ``1 - reference_alpha`` interval). Wider than a paired comparison: it
    cannot use that both models saw the same examples."""
    from scipy.special import ndtri

    z = float(ndtri(1.0 - reference_alpha / 2.0))
    se_ref = (reference_high - reference_low) / (2.0 * z)
    se_cand = candidate.standard_error(reference_alpha / 2.0)
    se = math.hypot(se_ref, se_cand)
    delta = float(candidate.value) - float(reference)

    def bounds(a: float) -> tuple[float, float]:
        half = float(ndtri(1.0 - a)) * se
        return delta - half, delta + half
    return Estimate(delta, candidate.n, "unpaired normal approximation", bounds, candidate.value, float(reference),
                    paired=False)


def oriented(estimate: Estimate, higher_is_better: bool) -> Estimate:
    """The estimate as an *improvement* (positive = better): flipped for metrics where lower is better."""
    if higher_is_better:
        return estimate

    def bounds(a: float) -> tuple[float, float]:
        low, high = estimate.bounds(a)
        return -high, -low
    return Estimate(-estimate.value, estimate.n, estimate.method, bounds, estimate.candidate, estimate.reference,
                    estimate.paired)
