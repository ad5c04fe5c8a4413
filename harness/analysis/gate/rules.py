"""The gate's rules as the judge reads them: plain records, already validated (the suite package checks the
written form: ``harness.suite.schema.GateSection``; the runner turns it into these)."""

from __future__ import annotations

from dataclasses import dataclass, field

REGRESSION = "regression"
NON_INFERIORITY = "non_inferiority"
SUPERIORITY = "superiority"
FLOOR = "floor"
CEILING = "ceiling"
HEALTH = "health"

DEFAULT_ALPHA = 0.04
"""The gate's one-sided level when the rules give none (harness/data/gate-defaults.yaml and the rules schema
say the same; docs/ci.md "Default rules" gives the reasons: the false-fail rate on equally good models stays
clearly under 5% at every n, with power to spare)."""


@dataclass(frozen=True)
class Rule:
    """One rule. ``margin`` is the regression rule's ``max_drop``, the non-inferiority margin or the
    superiority margin (in the metric's units, >= 0); ``threshold`` the floor's ``min`` or the ceiling's
    ``max``; ``cls`` names a class (the metric of that class, one-vs-rest); ``where`` is ``file:line``."""

    kind: str
    metric: str | None = None
    cls: str | None = None
    margin: float = 0.0
    detect: float = 0.01
    threshold: float | None = None
    on: str = "point"
    max_failed: float = 0.01
    max_invalid: float = 0.05
    optional: bool = False
    where: str | None = None

    @property
    def subject(self) -> str:
        """The metric and class the rule is about, e.g. ``recall[urgent]``."""
        if self.metric is None:
            return "failed / invalid examples"
        return f"{self.metric}[{self.cls}]" if self.cls else self.metric

    @property
    def title(self) -> str:
        """The rule in a few words, e.g. ``regression: accuracy (max drop 0.01)``."""
        extra = ""
        if self.kind == REGRESSION and self.margin:
            extra = f" (max drop {self.margin:g})"
        elif self.kind in (NON_INFERIORITY, SUPERIORITY) and self.margin:
            extra = f" (margin {self.margin:g})"
        elif self.kind == FLOOR:
            extra = f" >= {self.threshold:g}" + (" (confidence bound)" if self.on == "bound" else "")
        elif self.kind == CEILING:
            extra = f" <= {self.threshold:g}" + (" (confidence bound)" if self.on == "bound" else "")
        elif self.kind == HEALTH:
            return f"health: failed <= {self.max_failed:.1%}, invalid <= {self.max_invalid:.1%}"
        return f"{self.kind.replace('_', '-')}: {self.subject}{extra}"


@dataclass(frozen=True)
class GateConfig:
    """The rules and how they are judged: one-sided level ``alpha``; ``strict`` makes inconclusive fail."""

    rules: tuple[Rule, ...]
    alpha: float = DEFAULT_ALPHA
    strict: bool = False
    source: str = "the default rules"
    n_resamples: int = 1000
    seed: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
