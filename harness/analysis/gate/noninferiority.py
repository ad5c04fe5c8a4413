"""**non-inferiority** (strict form, ``margin: m``): passes only when the data show the candidate no worse
than the reference by more than ``m`` (the one-sided lower confidence bound of the improvement lies above
``-m``); fails when the data show it worse by more than ``m`` (as a regression rule would); otherwise
inconclusive."""

from __future__ import annotations

from .assessment import FAIL, INCONCLUSIVE, PASS, Assessment, about, drop_word, needed, size
from .comparison import assess_comparison, holm_note
from .inputs import GateInput
from .rules import GateConfig, Rule


def assess(rule: Rule, inp: GateInput, config: GateConfig) -> Assessment:
    a = assess_comparison(rule, inp, config)
    if a.verdict is None and a.estimate is not None:
        a.p_fail = a.p_value = a.estimate.p_below(-rule.margin)
        a.examples_needed = needed(a.estimate, config.alpha, rule.margin)
    return a


def decide(a: Assessment, config: GateConfig, family: int) -> None:
    est, rule, alpha = a.estimate, a.rule, config.alpha
    assert est is not None and a.p_fail is not None and a.p_adjusted is not None
    word = drop_word(a.higher_is_better)
    low, high = est.bounds(alpha)
    margin = size(rule.margin, a.points)
    if a.p_adjusted <= alpha:
        a.settle(FAIL, f"{rule.subject} is worse by more than the margin {margin}: at {1 - alpha:.0%} confidence "
                       f"the {word} is at least {size(high, a.points)}")
        return
    if low > -rule.margin:
        a.settle(PASS, f"non-inferiority shown: a {word} of more than {margin} is ruled out "
                       f"(bound {'+' if low >= 0 else '-'}{size(low, a.points)})")
        return
    reason = f"non-inferiority not shown: a {word} of up to {size(low, a.points)} cannot be ruled out " \
             f"(margin {margin})"
    if a.examples_needed is not None:
        reason += f"; {about(a.examples_needed)} examples would show it for equally good models"
    if a.p_fail <= alpha:
        reason += holm_note(a, config, family)
    a.settle(INCONCLUSIVE, reason)
