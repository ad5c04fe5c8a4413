"""Findings: what a data check reports (severity, count, the first rows), and the result of a validation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)
ROWS_SHOWN = 20  # row numbers kept in JSON and results.json per finding (the count says how many in all)


@dataclass(frozen=True)
class Finding:
    """One problem (or fact) about the suite's data.

    ``rows`` are line numbers in ``file`` (1-based; a CSV/TSV file's header is line 1), ascending; ``count``
    is how many rows are affected (for a finding about labels: how many labels, listed in ``items``).
    ``fixable``: ``harness validate --fix`` corrects it.
    """

    code: str
    severity: str
    check: str  # the family: data, format, labels, tokens, length, duplicates, size
    message: str
    count: int = 0
    rows: tuple[int, ...] = ()
    file: str | None = None
    model: str | None = None
    items: tuple[str, ...] = ()
    fixable: bool = False
    hint: str = ""

    def to_json(self, max_rows: int | None = ROWS_SHOWN) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "severity": self.severity, "check": self.check,
                               "message": self.message, "count": self.count,
                               "rows": list(self.rows[:max_rows] if max_rows is not None else self.rows)}
        for key in ("file", "model", "hint"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.items:
            out["items"] = list(self.items)
        if self.fixable:
            out["fixable"] = True
        return out

    def rows_text(self, limit: int = 10) -> str:
        if not self.rows:
            return ""
        shown = ", ".join(str(r) for r in self.rows[:limit])
        more = f", … ({len(self.rows) - limit} more)" if len(self.rows) > limit else ""
        return f"rows {shown}{more}"


def finding(code: str, severity: str, check: str, message: str, rows: Iterable[int] = (), *,
            count: int | None = None, **kw: Any) -> Finding:
    """A finding whose count defaults to the number of (distinct) rows."""
    ordered = tuple(sorted(set(rows)))
    return Finding(code=code, severity=severity, check=check, message=message,
                   count=len(ordered) if count is None else count, rows=ordered, **kw)


@dataclass
class Validation:
    """The findings of one validation, errors first. ``ok``: no errors (what ``harness run`` requires)."""

    suite: str
    findings: list[Finding] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    heldout: str | None = None
    train: str | None = None
    n_heldout: int = 0

    def __post_init__(self) -> None:
        self.findings = sort_findings(self.findings)

    def of(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def errors(self) -> list[Finding]:
        return self.of(ERROR)

    @property
    def warnings(self) -> list[Finding]:
        return self.of(WARNING)

    @property
    def ok(self) -> bool:
        return not self.errors

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def get(self, code: str, model: str | None = None) -> Finding | None:
        """The first finding with this code (and model, when given), or None."""
        for f in self.findings:
            if f.code == code and (model is None or f.model == model):
                return f
        return None

    def summary(self) -> dict[str, int]:
        return {sev: len(self.of(sev)) for sev in SEVERITIES}

    def to_json(self, severities: Sequence[str] = SEVERITIES, max_rows: int | None = ROWS_SHOWN) -> dict[str, Any]:
        return {"suite": self.suite, "heldout": self.heldout, "train": self.train, "n_heldout": self.n_heldout,
                "models": list(self.models), "ok": self.ok, "summary": self.summary(),
                "findings": [f.to_json(max_rows) for f in self.findings if f.severity in severities]}


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    order = {sev: i for i, sev in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (order.get(f.severity, 9), f.check, f.code, f.model or ""))


def without(findings: Iterable[Finding], ignore: Iterable[str]) -> list[Finding]:
    skip = set(ignore)
    return [f for f in findings if f.code not in skip]


def with_severity(f: Finding, severity: str) -> Finding:
    return replace(f, severity=severity)
