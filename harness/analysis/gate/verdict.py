"""The gate's verdict and its public, versioned JSON form (``"format": "harness.gate"``, documented in
docs/results-format.md). The JUnit, Markdown and console forms are rendered from that JSON."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ... import __version__
from ...errors import HarnessError
from .assessment import FAIL, INCONCLUSIVE, NOT_JUDGED, Assessment
from .rules import HEALTH, GateConfig

FORMAT = "harness.gate"
SCHEMA_VERSION = 1

PASSED, FAILED, COULD_NOT_JUDGE = "passed", "failed", "could_not_judge"
EXIT_CODES = {PASSED: 0, FAILED: 4, COULD_NOT_JUDGE: 3}

FAMILY = ("holm", "Holm's step-down correction across the rules that can fail on evidence (regression, "
          "non-inferiority, floors and ceilings on the confidence bound): the chance that any of them fails "
          "when no rule is truly violated stays at or below alpha. Superiority rules and point floors are "
          "demands, outside the correction; passing on evidence needs each rule at alpha (an "
          "intersection-union test, no correction needed).")


class CannotJudge(HarnessError):
    """The gate cannot judge (results unreadable, a model or its predictions missing): it fails closed."""

    exit_code = 3


def blocking(a: Assessment, strict: bool) -> bool:
    return a.verdict in (FAIL, NOT_JUDGED) or (strict and a.verdict == INCONCLUSIVE)


def status_of(assessments: list[Assessment], strict: bool) -> str:
    if any(a.verdict == NOT_JUDGED or (a.rule.kind == HEALTH and a.verdict == FAIL) for a in assessments):
        return COULD_NOT_JUDGE
    if any(blocking(a, strict) for a in assessments):
        return FAILED
    return PASSED


def _num(x: float | None) -> float | None:
    return None if x is None else float(x)


def rule_json(a: Assessment, config: GateConfig) -> dict[str, Any]:
    r = a.rule
    out: dict[str, Any] = {"rule": r.title, "kind": r.kind, "metric": r.metric, "class": r.cls,
                           "where": r.where, "verdict": a.verdict, "blocking": blocking(a, config.strict),
                           "reason": a.reason}
    if r.kind in ("regression", "non_inferiority", "superiority"):
        out["margin"] = r.margin
    if r.kind == "regression":
        out["detect"] = r.detect
    if r.kind in ("floor", "ceiling"):
        out.update({"threshold": r.threshold, "on": r.on})
    if r.kind == HEALTH:
        out.update({"max_failed": r.max_failed, "max_invalid": r.max_invalid, "models": a.details})
    est = a.estimate
    if est is not None:
        comparison = r.kind not in ("floor", "ceiling")
        sign = 1.0 if (a.higher_is_better or not comparison) else -1.0  # back to metric units
        try:
            low, high = est.bounds(config.alpha)
            low, high = sorted((sign * low, sign * high))
        except Exception:  # noqa: BLE001 - no bounds: shown as null
            low = high = None
        out.update({
            "candidate": _num(est.candidate), "reference": _num(est.reference) if comparison else None,
            "delta": sign * est.value if comparison else None,
            "bounds": {"lower": _num(low), "upper": _num(high), "confidence": 1 - config.alpha,
                       "sides": "one-sided each"},
            "p_value": _num(a.p_value), "p_adjusted": _num(a.p_adjusted), "n": est.n, "method": est.method,
            "paired": est.paired, "higher_is_better": a.higher_is_better,
            "examples_needed": a.examples_needed,
        })
    return out


@dataclass
class Verdict:
    assessments: list[Assessment]
    config: GateConfig
    candidate: dict[str, Any]
    reference: dict[str, Any]
    paired: bool
    dataset: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return status_of(self.assessments, self.config.strict)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for a in self.assessments:
            counts[a.verdict or "?"] = counts.get(a.verdict or "?", 0) + 1
        parts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
        head = {PASSED: "gate passed", FAILED: "gate FAILED",
                COULD_NOT_JUDGE: "gate could not judge (fails closed)"}[self.status]
        return f"{head}: {self.candidate.get('name')} vs {self.reference.get('name')} — {parts}"

    def to_json(self) -> dict[str, Any]:
        family = [a for a in self.assessments if a.p_adjusted is not None]
        return {
            "format": FORMAT, "schema_version": SCHEMA_VERSION, "harness_version": __version__,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "status": self.status, "exit_code": self.exit_code, "summary": self.summary(),
            "strict": self.config.strict, "alpha": self.config.alpha, "rules_source": self.config.source,
            "family": {"method": FAMILY[0], "size": len(family), "description": FAMILY[1]},
            "candidate": self.candidate, "reference": self.reference, "paired": self.paired,
            "dataset": self.dataset, "notes": list(self.notes),
            "rules": [rule_json(a, self.config) for a in self.assessments],
        }


def unjudged_json(message: str, candidate: str | None = None, reference: str | None = None,
                  strict: bool = False) -> dict[str, Any]:
    """The verdict JSON when the gate could not even read its input: one unjudged pseudo-rule, so CI still
    gets its JUnit file and summary."""
    return {
        "format": FORMAT, "schema_version": SCHEMA_VERSION, "harness_version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "status": COULD_NOT_JUDGE, "exit_code": EXIT_CODES[COULD_NOT_JUDGE],
        "summary": f"gate could not judge (fails closed): {message}", "strict": strict, "alpha": None,
        "rules_source": None, "family": None, "candidate": {"name": candidate}, "reference": {"name": reference},
        "paired": None, "dataset": {}, "notes": [],
        "rules": [{"rule": "read the results", "kind": "input", "metric": None, "class": None, "where": None,
                   "verdict": NOT_JUDGED, "blocking": True, "reason": f"could not judge: {message}"}],
    }
