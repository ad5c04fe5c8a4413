"""**health**: the shares of failed examples (no output: the request failed, the prediction is missing) and of
invalid ones (an output that matched no label) stay under limits, for the candidate and the reference. Over a
limit the gate cannot judge the models fairly — failed examples count as wrong — so it fails closed (exit
code 3), whatever the other rules say."""

from __future__ import annotations

from .assessment import FAIL, PASS, Assessment
from .inputs import GateInput, ModelRecord
from .rules import GateConfig, Rule


def _shares(record: ModelRecord) -> tuple[float, float, int]:
    n = int(record.counts.get("n") or 0)
    if n == 0:
        return 1.0, 0.0, 0
    return int(record.counts.get("failed") or 0) / n, int(record.counts.get("invalid") or 0) / n, n


def assess(rule: Rule, inp: GateInput, config: GateConfig) -> Assessment:
    a = Assessment(rule)
    problems, seen = [], []
    for role, record in (("candidate", inp.candidate), ("reference", inp.reference)):
        failed, invalid, n = _shares(record)
        a.details[role] = {"model": record.name, "n": n, "failed": failed, "invalid": invalid}
        seen.append(f"{role} {failed:.1%} failed, {invalid:.1%} invalid")
        if n == 0:
            problems.append(f"{role} {record.name!r} has no examples")
            continue
        if failed > rule.max_failed:
            problems.append(f"{role} {record.name!r}: {failed:.1%} of examples failed (limit {rule.max_failed:.1%})")
        if invalid > rule.max_invalid:
            problems.append(f"{role} {record.name!r}: {invalid:.1%} of outputs invalid "
                            f"(limit {rule.max_invalid:.1%})")
    if problems:
        return a.settle(FAIL, "; ".join(problems) + " — the gate cannot judge these models fairly")
    return a.settle(PASS, "; ".join(seen))


def decide(a: Assessment, config: GateConfig, family: int) -> None:  # settled in assess
    return None
