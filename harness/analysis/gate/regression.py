"""**regression** (``max_drop: m``, default 0): fails only when the data show the candidate worse than the
reference by more than ``m`` — the one-sided upper confidence bound of the improvement lies below ``-m``
(p-value of "no drop beyond m" at most alpha, after the family-wise correction). It passes when the data
also rule out a drop beyond ``m + detect``; otherwise it is inconclusive and says what it could not rule out
and how many examples would detect a drop of ``m + detect``."""

from __future__ import annotations

from .assessment import FAIL, INCONCLUSIVE, PASS, Assessment, about, drop_word, needed, size
from .comparison import assess_comparison
from .inputs import GateInput
from .rules import GateConfig, Rule


def assess(rule: Rule, inp: GateInput, config: GateConfig) -> Assessment:
    a = assess_comparison(rule, inp, config)
    if a.verdict is None and a.estimate is not None:
        a.p_fail = a.p_value = a.estimate.p_below(-rule.margin)
        a.examples_needed = needed(a.estimate, config.alpha, rule.detect)
    return a


def decide(a: Assessment, config: GateConfig, family: int) -> None:
    est, rule, alpha = a.estimate, a.rule, config.alpha
    assert est is not None and a.p_fail is not None and a.p_adjusted is not None
    word = drop_word(a.higher_is_better)
    low, high = est.bounds(alpha)
    allowed = f" (allowed: {size(rule.margin, a.points)})" if rule.margin else ""
    beyond = f" beyond {size(rule.margin, a.points)}" if rule.margin else ""
    if a.p_adjusted <= alpha:
        a.settle(FAIL, f"{rule.subject} {word}: {size(est.value, a.points)} worse than the reference; at "
                       f"{1 - alpha:.0%} confidence the {word} is at least {size(high, a.points)}{allowed}")
        return
    if low >= -(rule.margin + rule.detect):
        if low >= 0:
            better = f"better by at least {size(low, a.points)}" if low > 0 else "at least as good"
            a.settle(PASS, f"no {word}: at {1 - alpha:.0%} confidence the candidate is {better}")
        else:
            a.settle(PASS, f"no {word}{beyond} shown; a {word} of more than {size(low, a.points)} is ruled out")
        return
    if a.p_fail <= alpha:
        reason = (f"a {word}{beyond} is likely on its own (p = {a.p_fail:.3g}) but not shown after Holm's "
                  f"correction across the {family} rules that can fail on evidence (adjusted p = "
                  f"{a.p_adjusted:.3g}); a {word} of up to {size(low, a.points)} cannot be ruled out")
    else:
        reason = f"no {word}{beyond} shown, but a {word} of up to {size(low, a.points)} cannot be ruled out"
    if a.examples_needed is not None:
        reason += (f"; {about(a.examples_needed)} examples would detect a {word} of "
                   f"{size(rule.margin + rule.detect, a.points)}")
    a.settle(INCONCLUSIVE, reason)
