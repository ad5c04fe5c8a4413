"""The metric contract. The core knows nothing about any particular metric: metrics are plugins."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .stats.results import Interval, PairedTest


class NotAvailable(Exception):
    """Raised by :meth:`Metric.compute` when the metric is undefined on this data; the reason is reported."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class OptionError(ValueError):
    """A ``metric_options`` value a metric cannot use (raised by :meth:`Metric.check_options`); ``key`` names it."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"metric_options.{key}: {reason}")


@dataclass(frozen=True)
class MetricData:
    """One model's outputs on the held-out set, aligned with the gold labels.

    ``y_pred`` is -1 where the model gave no valid label (an invalid output or a failed request).
    ``proba`` rows sum to 1 over the label set; a row is NaN where the model gave no probabilities.
    """

    labels: tuple[str, ...]
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None = None
    positive: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.y_true.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.labels)

    @property
    def is_binary(self) -> bool:
        return self.n_classes == 2

    def has_proba(self) -> np.ndarray:
        """Boolean mask of rows that have probabilities."""
        if self.proba is None:
            return np.zeros(self.n, dtype=bool)
        mask: np.ndarray = ~np.isnan(self.proba).any(axis=1)
        return mask

    def take(self, idx: np.ndarray) -> MetricData:
        return MetricData(self.labels, self.y_true[idx], self.y_pred[idx],
                          None if self.proba is None else self.proba[idx], self.positive, self.options)


class Metric:
    """Base class for metric plugins. Subclasses set the class attributes and implement :meth:`compute`.

    ``compute`` returns a float, or raises :class:`NotAvailable` with a reason when the metric is undefined
    on the data (one class present, no probabilities...). It must never make a number up.
    """

    name: str = ""
    title: str = ""
    description: str = ""
    higher_is_better: bool = True
    needs_proba: bool = False
    family: str = ""
    """What the metric measures, for the report's verdict: ``"accuracy"`` (label correctness: accuracy,
    precision, recall, F1), ``"discrimination"`` (ranking: AUROC, AUPRC), ``"calibration"`` (probability
    quality: log loss, Brier, calibration error), or ``""`` (no family: shown, not summarised)."""
    proportion: bool = False
    """The metric is a share in [0, 1] (accuracy, precision, recall, F1, AUROC, AUPRC): a difference of it is
    spoken in percentage points ("2.4 points") and a limit on it must lie in [0, 1]. Otherwise (log loss, Brier,
    calibration error, most plugin metrics) differences are plain numbers in the metric's units."""

    def compute(self, data: MetricData) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    # --- optional statistics hooks (see harness.compare) --------------------------------------------

    def resampler(self, data: MetricData) -> Callable[[np.ndarray], np.ndarray] | None:
        """A fast path for the bootstrap: a function mapping count rows ``W`` (b, n) — how often each
        example is drawn in each resample — to the b metric values, without per-resample library calls.
        None (the default) makes the bootstrap call :meth:`compute` once per resample (slower, always right).
        The function must raise NotAvailable, or return NaN for a resample, where the metric is undefined."""
        return None

    def interval(self, data: MetricData, alpha: float) -> Interval | None:
        """A closed-form (1 - alpha) confidence interval (Wilson for accuracy, DeLong for AUROC), or None
        to use the bootstrap. Raise NotAvailable(reason) when no interval can be given (e.g. DeLong with a
        single positive example): it is reported as null with the reason."""
        return None

    def paired_test(self, a: MetricData, b: MetricData, alpha: float) -> PairedTest | None:
        """A closed-form paired test of metric(a) - metric(b) on the same examples (McNemar for accuracy,
        DeLong for AUROC), or None to use the paired bootstrap. ``a`` and ``b`` hold exactly the examples
        of the comparison (for a probability metric, those where both models give probabilities). Raise
        NotAvailable(reason) when the test is undefined: the delta is still reported, the test is null
        with the reason."""
        return None

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`OptionError` for a ``metric_options`` value this metric cannot use. The runner calls it
        before anything is scored, so a bad option is an input error naming its line in suite.yaml, not a crash
        after the requests were paid for. Default: the metric reads no option."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title or self.name, "description": self.description,
                "higher_is_better": self.higher_is_better, "needs_proba": self.needs_proba,
                "family": self.family}


@dataclass(frozen=True)
class MetricValue:
    """A metric's value (None when not available, with the reason), the number of examples it was computed
    on and, when those are not every example, ``subset``: a digest of which ones (values with different
    subsets were computed on different example sets and are never ranked against each other)."""

    value: float | None
    reason: str | None = None
    n: int | None = None
    subset: str | None = None
    failed: bool = False  # the metric's code raised (a plugin bug), not "undefined on this data"; not in JSON

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value}
        if self.reason:
            out["reason"] = self.reason
        if self.n is not None:
            out["n"] = self.n
        if self.subset is not None:
            out["subset"] = self.subset
        return out


def subset_digest(rows: np.ndarray) -> str:
    """A short digest of a boolean row mask: equal digests, equal example sets."""
    import hashlib

    mask = np.asarray(rows, dtype=bool)
    return hashlib.sha256(np.packbits(mask).tobytes() + str(mask.size).encode()).hexdigest()[:16]


def failure_reason(exc: BaseException, plugin: str | None = None, hook: str = "compute") -> str:
    """Why a metric has no value when its code raised: the plugin, the hook and the error, on one line."""
    who = f"plugin {plugin!r}" if plugin else "its plugin"
    message = " ".join(str(exc).split())[:300]
    return f"{who} failed in {hook} ({type(exc).__name__}{': ' + message if message else ''})"


def evaluate(metric: Metric, data: MetricData, plugin: str | None = None) -> MetricValue:
    """Compute one metric; NotAvailable and non-finite results become a value of None with a reason. A metric
    whose ``compute`` raises anything else (a bug in its plugin) is None too, ``failed``, with a reason naming
    the plugin (``plugin``) and the error: one metric's bug never loses a run's other results."""
    try:
        value = float(metric.compute(data))
    except NotAvailable as na:
        return MetricValue(None, na.reason)
    except Exception as exc:  # noqa: BLE001 — plugin code: its failure is reported, not raised
        return MetricValue(None, failure_reason(exc, plugin), failed=True)
    if not np.isfinite(value):
        return MetricValue(None, "not defined on this data (non-finite result)")
    if not metric.needs_proba:
        return MetricValue(value, None, data.n)
    rows = data.has_proba()
    return MetricValue(value, None, int(rows.sum()), None if rows.all() else subset_digest(rows))


def ranked_group(values: list[tuple[str, float, str | None]]) -> set[str]:
    """Which models may be ranked against each other on one metric, given (model, value, subset) for the
    models that have a value (``subset`` as in :class:`MetricValue`: None = every example).

    Values computed on different example sets are never ranked against each other: when all share one
    example set they are all ranked; otherwise only those computed on every example are; with none of
    those, none is."""
    subsets = {s for _, _, s in values}
    if len(subsets) <= 1:
        return {n for n, _, _ in values}
    return {n for n, _, s in values if s is None}
