"""What judging one rule produces, and the words for it.

Every rule module has ``assess(rule, input, config) -> Assessment`` (the evidence: an estimate, and for the
rules that fail on evidence, the p-value of failing) and ``decide(assessment, p_adjusted, config)`` (the
verdict once the family-wise correction has adjusted that p-value)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .evidence import Estimate
from .rules import Rule

PASS = "pass"
FAIL = "fail"
INCONCLUSIVE = "inconclusive"
NOT_JUDGED = "not_judged"  # could not judge: the gate fails closed (exit code 3)
SKIPPED = "skipped"  # an optional rule whose metric neither model has
VERDICTS = (PASS, FAIL, INCONCLUSIVE, NOT_JUDGED, SKIPPED)

POWER = 0.8  # the examples-needed estimates are for 80% power


@dataclass
class Assessment:
    rule: Rule
    estimate: Estimate | None = None  # comparisons: the improvement (candidate better > 0); floors: own value
    higher_is_better: bool = True
    p_fail: float | None = None  # set for the rules in the family-wise correction
    p_value: float | None = None  # the rule's own one-sided p-value, shown
    p_adjusted: float | None = None
    verdict: str | None = None
    reason: str = ""
    points: bool = False  # sizes read as percentage points (x 100): the metric is a share (Metric.proportion)
    examples_needed: int | None = None
    details: dict[str, Any] = field(default_factory=dict)  # health: the shares per model

    def settle(self, verdict: str, reason: str) -> Assessment:
        self.verdict, self.reason = verdict, reason
        return self


def size(x: float, points: bool) -> str:
    """A size in the metric's units: ``2.4 points`` for a share (accuracy, AUROC...), else ``0.024``."""
    x = abs(x)
    if points:
        text = f"{100 * x:.2g}" if 100 * x < 1 else f"{100 * x:.1f}".removesuffix(".0")
        return f"{text} point" + ("" if text == "1" else "s")
    return f"{x:.3g}"


def drop_word(higher_is_better: bool) -> str:
    return "drop" if higher_is_better else "rise"


def about(n: float) -> str:
    """``about 3,100`` (two significant figures)."""
    if n < 100:
        return f"about {max(1, math.ceil(n))}"
    digits = int(math.floor(math.log10(n))) - 1
    return f"about {round(n, -digits):,.0f}"


def needed(estimate: Estimate, alpha: float, effect: float) -> int | None:
    """Examples needed for a one-sided test at ``alpha`` to detect a true difference ``effect`` beyond the
    threshold with 80% power, scaling the spread observed at this n (se ~ 1/sqrt(n))."""
    if effect <= 0:
        return None
    from scipy.special import ndtri

    try:
        se = estimate.standard_error(alpha)
    except Exception:  # noqa: BLE001 - an estimate without bounds has no size to offer
        return None
    if not math.isfinite(se) or se <= 0:
        return None
    z = float(ndtri(1.0 - alpha)) + float(ndtri(POWER))
    return max(1, math.ceil(estimate.n * (z * se / effect) ** 2))
