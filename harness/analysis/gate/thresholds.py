"""**floor** (``min``) and **ceiling** (``max``) on the candidate's own value of a metric (of one class, with
``class``), taken literally (a floor is ``value >= min`` whichever way the metric improves).

``on: point`` compares the point value: pass or fail. ``on: bound`` uses the confidence bounds at alpha, like
the comparison rules: fail when the data show the value beyond the limit (in the family-wise correction),
pass when the data show it within the limit, otherwise inconclusive."""

from __future__ import annotations

from .assessment import FAIL, INCONCLUSIVE, NOT_JUDGED, PASS, SKIPPED, Assessment, size
from .comparison import holm_note, skipped
from .evidence import NotJudged
from .inputs import GateInput
from .rules import FLOOR, GateConfig, Rule


def _fmt(x: float, points: bool) -> str:
    return f"{100 * x:.1f}%" if points else f"{x:.4g}"


def assess(rule: Rule, inp: GateInput, config: GateConfig) -> Assessment:
    a = Assessment(rule)
    why = skipped(inp, rule)
    if why is not None:
        return a.settle(SKIPPED, f"skipped: {why}")
    try:
        a.estimate = est = inp.own_value(rule, config.n_resamples, config.seed, bounds=rule.on == "bound")
    except NotJudged as exc:
        return a.settle(NOT_JUDGED, f"could not judge: {exc.reason}")
    assert rule.threshold is not None
    a.higher_is_better = inp.metric(rule).higher_is_better
    a.points = inp.metric(rule).proportion  # a share as a percentage; log loss, Brier, ECE as they are
    limit, value = rule.threshold, est.value
    floor = rule.kind == FLOOR
    if rule.on == "point":
        ok = value >= limit if floor else value <= limit
        word = "at least" if floor else "at most"
        return a.settle(PASS if ok else FAIL, f"{rule.subject} = {_fmt(value, a.points)}, "
                        f"{'' if ok else 'not '}{word} {_fmt(limit, a.points)}")
    a.p_fail = a.p_value = est.p_below(limit) if floor else est.p_above(limit)
    return a


def decide(a: Assessment, config: GateConfig, family: int) -> None:
    est, rule, alpha = a.estimate, a.rule, config.alpha
    assert est is not None and a.p_fail is not None and a.p_adjusted is not None and rule.threshold is not None
    low, high = est.bounds(alpha)
    floor = rule.kind == FLOOR
    limit = _fmt(rule.threshold, a.points)
    conf = f"{1 - alpha:.0%}"
    if a.p_adjusted <= alpha:
        bound = high if floor else low
        a.settle(FAIL, f"{rule.subject} is {'below' if floor else 'above'} {limit}: at {conf} confidence it is "
                       f"at {'most' if floor else 'least'} {_fmt(bound, a.points)}")
        return
    inside = low >= rule.threshold if floor else high <= rule.threshold
    if inside:
        a.settle(PASS, f"{rule.subject} is {'above' if floor else 'below'} {limit} at {conf} confidence "
                       f"(bound {_fmt(low if floor else high, a.points)})")
        return
    reason = (f"{rule.subject} = {_fmt(est.value, a.points)} but could be as "
              f"{'low as ' + _fmt(low, a.points) if floor else 'high as ' + _fmt(high, a.points)} "
              f"(limit {limit}, {size(abs(est.value - rule.threshold), a.points)} away)")
    if a.p_fail <= alpha:
        reason += holm_note(a, config, family)
    a.settle(INCONCLUSIVE, reason)
