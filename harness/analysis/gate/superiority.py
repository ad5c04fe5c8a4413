"""**superiority** (``margin: s``, default 0): the candidate must be better than the reference by more than
``s``, at alpha — the one-sided lower confidence bound of the improvement lies above ``s``. A demand, not a
detector: not shown is a fail (not inconclusive), and superiority rules are outside the family-wise
correction (requiring every one at alpha already bounds the chance of passing wrongly, an
intersection-union test)."""

from __future__ import annotations

from .assessment import FAIL, PASS, Assessment, about, needed, size
from .comparison import assess_comparison
from .inputs import GateInput
from .rules import GateConfig, Rule


def assess(rule: Rule, inp: GateInput, config: GateConfig) -> Assessment:
    a = assess_comparison(rule, inp, config)
    if a.verdict is None and a.estimate is not None:
        a.p_value = a.estimate.p_above(rule.margin)
        a.examples_needed = needed(a.estimate, config.alpha, a.estimate.value - rule.margin)
    return a


def decide(a: Assessment, config: GateConfig, family: int) -> None:
    est, rule, alpha = a.estimate, a.rule, config.alpha
    assert est is not None
    low, _ = est.bounds(alpha)
    a.p_adjusted = None
    margin = f" by more than {size(rule.margin, a.points)}" if rule.margin else ""
    if low > rule.margin:
        a.settle(PASS, f"better{margin}: at {1 - alpha:.0%} confidence the gain is at least "
                       f"{size(low, a.points)}")
        return
    if est.value > rule.margin:
        reason = f"not shown better{margin}: the gain of {size(est.value, a.points)} could be as small as " \
                 f"{'-' if low < 0 else ''}{size(low, a.points)}"
        if a.examples_needed is not None:
            reason += f"; {about(a.examples_needed)} examples would show a gain of this size"
    else:
        reason = f"not better{margin}: the candidate is {size(est.value, a.points)} " \
                 f"{'worse' if est.value < 0 else 'better'}"
    a.settle(FAIL, reason)
