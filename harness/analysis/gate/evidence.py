"""The gate's statistics, behind one small interface.

:func:`paired` is the one function the rules use to compare two models: for a metric and the two models'
aligned :class:`~harness.metrics.MetricData` (candidate, reference) it returns an :class:`Estimate` of
``metric(candidate) - metric(reference)`` — the point value, the one-sided confidence bounds at any level,
the p-value of any threshold, the rows used and the method. :func:`single` does the same for one model's own
value (floors and ceilings) and :func:`unpaired` combines a candidate with a stored reference that has no
per-example predictions.

The machinery is the run's own (:mod:`harness.analysis.compare`), so the gate judges exactly what
results.json reports:

* **rows**: :func:`~harness.analysis.compare.metric_rows` — every row for label metrics, the rows where both
  models give probabilities for probability metrics; ``n``, the candidate's and reference's values and
  their difference are results.json's ``n``, ``value_a``, ``value_b`` and ``delta`` for that pair;
* **a mean of paired 0/1 scores** (accuracy, and any plugin metric whose bootstrap fast path is such a mean:
  :class:`~harness.stats.linear.Mean` of 0/1 values that equals the metric): the exact conditional McNemar
  test and the bounds built on it (:class:`~.bounds.ExactPairedBinary`), whose false-fail rate never exceeds
  alpha, whatever ``n`` (results.json's two-sided mid-p test is close to its level, which a gate cannot
  afford); a floor or ceiling on such a metric uses Clopper–Pearson bounds;
* **the plugin's closed form** (:meth:`Metric.paired_test`, :meth:`Metric.interval`: DeLong for binary AUROC,
  Wilson...) read through :func:`~harness.analysis.compare.closed_form`: where it is *not available*
  (DeLong with fewer than 2 examples of a class) results.json reports no test, and the gate cannot judge the
  rule (:class:`NotJudged`, exit code 3) — never a crash, never a number made up;
* **otherwise the paired bootstrap** of :mod:`harness.stats.plan`: both models' statistics
  (:func:`~harness.analysis.compare.resampler`, as compare builds them) in one job, so they see the same
  resamples whatever their designs (a one-hot model against a soft one included), with the run's
  ``n_resamples`` and ``seed``: the same draws as results.json's test of that pair. Bounds are the order
  statistics compare's interval uses, and the p-value inverts them exactly (:class:`~.bounds.OrderStatistics`).

Every :class:`Estimate`'s p-values invert its own bounds (:mod:`.bounds`): one construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...metrics import Metric, MetricData, NotAvailable, evaluate
from ...stats.linear import Mean
from ...stats.plan import Job, run_jobs
from ..compare import closed_form, metric_rows, resampler
from .bounds import (
    LEVEL_MAX,
    LEVEL_MIN,
    Bounds,
    ExactPairedBinary,
    ExactProportion,
    Negated,
    OrderStatistics,
    Search,
)

MIN_RESAMPLES = 0.5  # a bootstrap needs the metric defined on at least half of the resamples


class NotJudged(Exception):
    """The data cannot answer the rule (a metric or its test not available, no rows in common...): fail closed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass
class Estimate:
    """A value (a difference candidate - reference, or one model's value) and its confidence bounds.

    ``bounds(a)`` gives the one-sided ``(1 - a)`` lower and upper confidence bounds (the limits of the
    two-sided ``1 - 2a`` interval); ``p_below`` / ``p_above`` invert them. ``n`` is the number of examples
    used."""

    value: float
    n: int
    construction: Bounds
    candidate: float | None = None
    reference: float | None = None
    paired: bool = True
    _cache: dict[float, tuple[float, float]] = field(default_factory=dict, repr=False)

    @property
    def method(self) -> str:
        return self.construction.method

    def bounds(self, level: float) -> tuple[float, float]:
        level = min(max(level, LEVEL_MIN), LEVEL_MAX)
        if level not in self._cache:
            low, high = self.construction.at(level)
            if not (math.isfinite(low) and math.isfinite(high)):
                size = getattr(self.construction, "size", None)
                why = f" ({size} usable resamples are too few)" if size is not None else ""
                raise NotJudged(f"{self.method} gives no one-sided {1 - level:g} confidence bound{why}")
            self._cache[level] = (float(low), float(high))
        return self._cache[level]

    def lower(self, level: float) -> float:
        return self.bounds(level)[0]

    def upper(self, level: float) -> float:
        return self.bounds(level)[1]

    def p_below(self, threshold: float) -> float:
        """One-sided p-value of "the true value is at least ``threshold``": small when the data show the
        value below it. The smallest level at which the upper bound lies below ``threshold``."""
        return min(1.0, max(LEVEL_MIN, self.construction.p_below(threshold)))

    def p_above(self, threshold: float) -> float:
        """One-sided p-value of "the true value is at most ``threshold``" (small when shown above it)."""
        return min(1.0, max(LEVEL_MIN, self.construction.p_above(threshold)))

    def standard_error(self, alpha: float) -> float:
        """The spread of the estimate implied by its bounds at ``alpha`` (exact for Wald-type methods)."""
        from scipy.special import ndtri

        low, high = self.bounds(alpha)
        return (high - low) / (2.0 * float(ndtri(1.0 - alpha)))


def _value(metric: Metric, data: MetricData, who: str) -> float:
    v = evaluate(metric, data)
    if v.value is None:
        raise NotJudged(f"{metric.name} is not available for the {who}: {v.reason}")
    return float(v.value)


def _rows(metric: Metric, *datas: MetricData) -> tuple[list[MetricData], int]:
    """The models' data on the rows the metric is computed on for them together (as compare does)."""
    rows = metric_rows(metric, *datas)
    if rows is None:
        return list(datas), datas[0].n
    return [d.take(rows) for d in datas], int(rows.sum())


def binary_scores(metric: Metric, data: MetricData, value: float) -> np.ndarray | None:
    """The per-example 0/1 scores whose mean the metric is (its bootstrap fast path is a plain mean of 0/1
    values that equals the metric on the data: accuracy), else None."""
    try:
        fast = metric.resampler(data)
    except NotAvailable:
        return None
    if not isinstance(fast, Mean) or fast.design.shape[0] != data.n or data.n == 0:
        return None
    scores, weights = fast.design[:, 0], fast.design[:, 1]
    if not (np.all(weights == 1.0) and np.all((scores == 0.0) | (scores == 1.0))):
        return None
    if abs(float(scores.mean()) - value) > 1e-9:
        return None
    return scores.astype(bool)


def _bootstrap(stats: dict[str, object], m: int, n_resamples: int, seed: int) -> dict[str, np.ndarray]:
    """The statistics' draws from one paired job of :mod:`harness.stats.plan` (the run's resamples)."""
    job = Job(stats, m)  # type: ignore[arg-type]
    run_jobs({"gate": job}, n_resamples, seed)
    return job.draws


def _order_statistics(draws: np.ndarray, what: str, n_resamples: int, method: str) -> OrderStatistics:
    bounds = OrderStatistics(draws, method)
    if bounds.size < MIN_RESAMPLES * n_resamples or bounds.size < 20:
        raise NotJudged(f"{what} is undefined on {n_resamples - bounds.size} of {n_resamples} bootstrap "
                        "resamples")
    return bounds


def paired(metric: Metric, candidate: MetricData, reference: MetricData, *, n_resamples: int = 1000,
           seed: int = 0) -> Estimate:
    """``metric(candidate) - metric(reference)`` on the rows both models can be scored on, paired row by row
    (the two MetricData must be aligned: row i is the same example in both)."""
    if candidate.n != reference.n:
        raise ValueError("candidate and reference are not aligned")
    (c, r), n = _rows(metric, candidate, reference)
    if n == 0:
        for data, who in ((candidate, "candidate"), (reference, "reference")):
            _value(metric, data, who)  # says which model has no such metric, and why
        raise NotJudged(f"{metric.name}: no example where both models give probabilities")
    vc, vr = _value(metric, c, "candidate"), _value(metric, r, "reference")

    sc, sr = binary_scores(metric, c, vc), binary_scores(metric, r, vr)
    if sc is not None and sr is not None:
        exact = ExactPairedBinary(int(np.sum(sc & ~sr)), int(np.sum(~sc & sr)), n)
        return Estimate(vc - vr, n, exact, vc, vr)

    test, reason = closed_form(metric.paired_test, c, r, 0.05)
    if reason is not None:
        raise NotJudged(f"no paired test for {metric.name}: {reason}")
    if test is not None:
        def limits(a: float) -> tuple[float, float]:
            t, why = closed_form(metric.paired_test, c, r, 2.0 * a)
            return (np.nan, np.nan) if t is None or why else (t.low, t.high)
        return Estimate(vc - vr, n, Search(limits, test.method), vc, vr)

    stats = {"c": resampler(metric, c), "r": resampler(metric, r)}
    draws = _bootstrap(stats, n, n_resamples, seed)
    bounds = _order_statistics(draws["c"] - draws["r"], f"the difference in {metric.name}", n_resamples,
                               "paired-bootstrap")
    return Estimate(vc - vr, n, bounds, vc, vr)


def single(metric: Metric, data: MetricData, *, n_resamples: int = 1000, seed: int = 0) -> Estimate:
    """One model's own value with its confidence bounds: Clopper–Pearson for a mean of 0/1 scores, else the
    plugin's interval (as compare gives it), else the bootstrap."""
    (d,), n = _rows(metric, data)
    if n == 0:
        _value(metric, data, "candidate")
        raise NotJudged(f"{metric.name}: no example can be scored")
    v = _value(metric, d, "candidate")

    scores = binary_scores(metric, d, v)
    if scores is not None:
        return Estimate(v, n, ExactProportion(int(scores.sum()), n), v, None)

    iv, reason = closed_form(metric.interval, d, 0.05)
    if reason is not None:
        raise NotJudged(f"no confidence interval for {metric.name}: {reason}")
    if iv is not None:
        def limits(a: float) -> tuple[float, float]:
            i, why = closed_form(metric.interval, d, 2.0 * a)
            return (np.nan, np.nan) if i is None or why else (i.low, i.high)
        return Estimate(v, n, Search(limits, iv.method), v, None)

    draws = _bootstrap({"x": resampler(metric, d)}, n, n_resamples, seed)["x"]
    return Estimate(v, n, _order_statistics(draws, metric.name, n_resamples, "bootstrap-percentile"), v, None)


def point(metric: Metric, data: MetricData) -> Estimate:
    """One model's own value on the rows it is computed on, without bounds (they raise NotJudged)."""
    (d,), n = _rows(metric, data)
    if n == 0:
        _value(metric, data, "candidate")
        raise NotJudged(f"{metric.name}: no example can be scored")
    v = _value(metric, d, "candidate")
    return Estimate(v, n, Search(lambda a: (np.nan, np.nan), "point value"), v, None)


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

    def limits(a: float) -> tuple[float, float]:
        half = float(ndtri(1.0 - a)) * se
        return delta - half, delta + half
    return Estimate(delta, candidate.n, Search(limits, "unpaired normal approximation"), candidate.value,
                    float(reference), paired=False)


def oriented(estimate: Estimate, higher_is_better: bool) -> Estimate:
    """The estimate as an *improvement* (positive = better): flipped for metrics where lower is better."""
    if higher_is_better:
        return estimate
    return Estimate(-estimate.value, estimate.n, Negated(estimate.construction), estimate.candidate,
                    estimate.reference, estimate.paired)
