"""Result records returned by the statistics layer.

Both records are frozen dataclasses of plain floats so that they serialise
trivially (``dataclasses.asdict``) into reports.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Interval", "PairedTest"]


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided ``(1 - alpha)`` confidence interval.

    Attributes:
        value: the point estimate (e.g. the metric on the full data).
        low: lower confidence limit.
        high: upper confidence limit.
        method: short name of the interval method (``"wilson"``, ``"delong"``,
            ``"bootstrap-percentile"``).
        n_resamples: for resampling methods, the number of resamples that
            entered the interval (resamples on which the metric is undefined
            are dropped); ``None`` for closed-form intervals.
        n_undefined: resamples drawn on which the metric was undefined (dropped).
    """

    value: float
    low: float
    high: float
    method: str
    n_resamples: int | None = None
    n_undefined: int = 0


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison of two models on the same examples.

    Attributes:
        delta: ``metric(A) - metric(B)`` on the full data.
        low: lower limit of the ``(1 - alpha)`` confidence interval of the delta.
        high: upper limit of that interval.
        p_value: two-sided p-value of ``H0: metric(A) == metric(B)``.
        method: short name of the test / interval pair.
        statistic: the test statistic where one exists (DeLong's Z), else ``None``.
        n_resamples: for resampling methods, the number of resamples used
            (after dropping resamples where either metric is undefined);
            ``None`` for closed-form tests.
        n_undefined: resamples drawn on which either metric was undefined (dropped).
    """

    delta: float
    low: float
    high: float
    p_value: float
    method: str
    statistic: float | None = None
    n_resamples: int | None = None
    n_undefined: int = 0
