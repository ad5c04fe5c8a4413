"""The evidence shared by the rules that compare the candidate with the reference (regression,
non-inferiority, superiority): the improvement estimate, or why there is none."""

from __future__ import annotations

from ...metrics import evaluate
from .assessment import NOT_JUDGED, SKIPPED, Assessment
from .evidence import NotJudged
from .inputs import GateInput
from .rules import CEILING, FLOOR, GateConfig, Rule


def _has_value(inp: GateInput, rule: Rule, which: str) -> bool:
    record = inp.candidate if which == "candidate" else inp.reference
    metric = inp.metrics.get(rule.metric or "")
    if metric is None:
        return False
    if record.data is not None:
        return evaluate(metric, record.data).value is not None
    return (record.metrics.get(metric.name) or {}).get("value") is not None


def skipped(inp: GateInput, rule: Rule) -> str | None:
    """Why an ``optional`` rule does not apply, else None. A comparison applies when the reference has the
    metric: without it there is nothing to regress from (a candidate that lost a metric the reference has
    is still judged — not available, the gate fails closed). A floor or ceiling applies when the candidate
    has it."""
    if not rule.optional:
        return None
    if rule.metric not in inp.metrics:
        return f"{rule.metric} is not a loaded metric"
    cand, ref = _has_value(inp, rule, "candidate"), _has_value(inp, rule, "reference")
    if not cand and not ref:
        return f"{rule.metric} is available for neither model"
    if rule.kind in (FLOOR, CEILING):
        return None if cand else f"{rule.metric} is not available for the candidate"
    return None if ref else (f"{rule.metric} is not available for the reference {inp.reference.name!r}: "
                             "nothing to compare with")


def assess_comparison(rule: Rule, inp: GateInput, config: GateConfig) -> Assessment:
    a = Assessment(rule)
    why = skipped(inp, rule)
    if why is not None:
        return a.settle(SKIPPED, f"skipped: {why}")
    metric = inp.metric(rule)
    a.higher_is_better = metric.higher_is_better
    try:
        a.estimate = inp.comparison(rule, config.n_resamples, config.seed)
    except NotJudged as exc:
        return a.settle(NOT_JUDGED, f"could not judge: {exc.reason}")
    a.points = metric.proportion  # a share's differences in points; log loss, Brier, ECE's as they are
    return a


def holm_note(a: Assessment, config: GateConfig, family: int) -> str:
    """Why a rule that would fail on its own does not, after the correction across the family."""
    return (f" (p = {a.p_fail:.3g} on its own, but {a.p_adjusted:.3g} after Holm's correction across the "
            f"{family} rules that can fail on evidence; alpha {config.alpha:g})")
