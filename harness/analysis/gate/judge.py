"""Judge every rule, correct across the family, and return the verdict.

Family-wise control: the rules that can *fail on evidence* (regression, non-inferiority, and floors and
ceilings on the confidence bound) each give the one-sided p-value of failing; Holm's step-down correction
adjusts them together, so on equally good models the chance that any of them fails stays at or below alpha
whatever their dependence. A rule fails when its adjusted p-value is at most alpha."""

from __future__ import annotations

from types import ModuleType

from ...stats.multiple import holm
from . import health, noninferiority, regression, superiority, thresholds
from .assessment import NOT_JUDGED, Assessment
from .evidence import NotJudged
from .inputs import GateInput, ModelRecord
from .rules import CEILING, FLOOR, HEALTH, NON_INFERIORITY, REGRESSION, SUPERIORITY, GateConfig
from .verdict import Verdict

MODULES: dict[str, ModuleType] = {REGRESSION: regression, NON_INFERIORITY: noninferiority,
                                  SUPERIORITY: superiority, FLOOR: thresholds, CEILING: thresholds,
                                  HEALTH: health}


def _unscorable(record: ModelRecord, role: str) -> str | None:
    """Why a model cannot be scored at all (it failed, or answered no example), else None."""
    if record.error:
        return f"the {role} {record.name!r} failed: {record.error}"
    n, ok = record.counts.get("n"), record.counts.get("ok")
    invalid = record.counts.get("invalid") or 0
    if n is not None and ok is not None and ok + invalid == 0:
        return f"the {role} {record.name!r} answered no example (all {n} failed)"
    return None


def judge(inp: GateInput, config: GateConfig) -> Verdict:
    broken = [why for why in (_unscorable(inp.candidate, "candidate"), _unscorable(inp.reference, "reference"))
              if why]
    assessments: list[Assessment] = []
    for rule in config.rules:
        module = MODULES[rule.kind]
        if broken and rule.kind != HEALTH:
            assessments.append(Assessment(rule).settle(NOT_JUDGED, "could not judge: " + "; ".join(broken)))
            continue
        try:
            assessments.append(module.assess(rule, inp, config))
        except NotJudged as exc:
            assessments.append(Assessment(rule).settle(NOT_JUDGED, f"could not judge: {exc.reason}"))

    family = [a for a in assessments if a.verdict is None and a.p_fail is not None]
    for a, p in zip(family, holm([min(1.0, max(0.0, a.p_fail or 0.0)) for a in family])):
        a.p_adjusted = p
    for a in assessments:
        if a.verdict is None:
            try:
                MODULES[a.rule.kind].decide(a, config, len(family))
            except NotJudged as exc:
                a.settle(NOT_JUDGED, f"could not judge: {exc.reason}")

    def describe(record: ModelRecord) -> dict[str, object]:
        return {"name": record.name, "source": record.source, "predictions": record.data is not None,
                "counts": dict(record.counts)}

    notes = list(inp.notes) + list(config.notes)
    return Verdict(assessments, config, describe(inp.candidate), describe(inp.reference), inp.paired,
                   {"sha256": inp.dataset_sha256, "n": inp.candidate.counts.get("n")}, notes)
