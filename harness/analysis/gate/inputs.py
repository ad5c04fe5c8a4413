"""What the gate judges: the candidate and the reference (each a model of a run, with its per-example data when
the predictions are at hand) and the metrics the rules name. Built by the runner from results.json and
predictions.jsonl; nothing here reads a file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ...metrics import Metric, MetricData
from .evidence import Estimate, NotJudged, oriented, paired, point, single, unpaired
from .rules import Rule


@dataclass(frozen=True)
class ModelRecord:
    """One model as results.json describes it; ``data`` is None when its predictions are not available
    (a stored baseline committed without predictions.jsonl)."""

    name: str
    data: MetricData | None
    metrics: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # results.json models[i].metrics
    intervals: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None
    source: str = "this run"


@dataclass(frozen=True)
class GateInput:
    candidate: ModelRecord
    reference: ModelRecord
    metrics: Mapping[str, Metric]  # the metrics the rules name, by name
    labels: tuple[str, ...]
    interval_alpha: float = 0.05  # the level of the stored intervals (for the unpaired fallback)
    dataset_sha256: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def paired(self) -> bool:
        return self.candidate.data is not None and self.reference.data is not None

    def metric(self, rule: Rule) -> Metric:
        assert rule.metric is not None
        return self.metrics[rule.metric]

    def _for_class(self, data: MetricData, rule: Rule) -> MetricData:
        if rule.cls is None:
            return data
        return replace(data, positive=self.labels.index(rule.cls))

    def comparison(self, rule: Rule, n_resamples: int, seed: int) -> Estimate:
        """The rule's metric, candidate - reference, as an improvement (positive = candidate better)."""
        metric = self.metric(rule)
        cand, ref = self.candidate.data, self.reference.data
        if cand is None:
            raise NotJudged(f"no per-example predictions for the candidate {self.candidate.name!r}")
        if ref is not None:
            est = paired(metric, self._for_class(cand, rule), self._for_class(ref, rule),
                         n_resamples=n_resamples, seed=seed)
            return oriented(est, metric.higher_is_better)
        if rule.cls is not None:
            raise NotJudged("a per-class rule needs the reference's per-example predictions (the stored "
                            "baseline has none)")
        stored = self.reference.metrics.get(metric.name) or {}
        if stored.get("value") is None:
            reason = stored.get("reason") or "not in the stored results"
            raise NotJudged(f"{metric.name} is not available for the reference: {reason}")
        iv = self.reference.intervals.get(metric.name)
        if not iv or iv.get("low") is None or iv.get("high") is None:
            raise NotJudged(f"the stored baseline has neither predictions nor a confidence interval for "
                            f"{metric.name}: an unpaired comparison needs one")
        own = single(metric, cand, n_resamples=n_resamples, seed=seed)
        est = unpaired(own, float(stored["value"]), float(iv["low"]), float(iv["high"]), self.interval_alpha)
        return oriented(est, metric.higher_is_better)

    def own_value(self, rule: Rule, n_resamples: int, seed: int, bounds: bool = True) -> Estimate:
        """The candidate's own value of the rule's metric with its confidence bounds. Without ``bounds`` (a
        floor or ceiling on the point) the bounds are shown where they exist but not needed: the rule is
        judged wherever the metric has a value (AUROC with a single positive example has no interval)."""
        if self.candidate.data is None:
            raise NotJudged(f"no per-example predictions for the candidate {self.candidate.name!r}")
        data = self._for_class(self.candidate.data, rule)
        try:
            return single(self.metric(rule), data, n_resamples=n_resamples, seed=seed)
        except NotJudged:
            if bounds:
                raise
            return point(self.metric(rule), data)  # the bounds are shown where they exist, never needed
