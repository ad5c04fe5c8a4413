"""The gate's verdict as files CI systems read: the verdict JSON itself (``"format": "harness.gate"``, see
docs/results-format.md), JUnit XML (one test case per rule) and a Markdown summary for a pull-request comment
or ``$GITHUB_STEP_SUMMARY``. All three are rendered from the verdict JSON alone.

Model, metric and class names come from files a user does not control: the XML is built with ElementTree
(escaped, characters XML 1.0 forbids removed) and every text cell of the Markdown is escaped, so no name can
open a link, an image or an HTML tag in a comment."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from .results import atomic_write

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]<>#+!|~&$@])")
ICONS = {"pass": "✅", "fail": "❌", "inconclusive": "⚠️", "not_judged": "⛔", "skipped": "➖"}
STATUS = {"passed": "✅ gate passed", "failed": "❌ gate FAILED", "could_not_judge": "⛔ gate could not judge"}


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: a number that is not finite is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_json(path: Path, verdict: dict[str, Any]) -> None:
    atomic_write(Path(path), json.dumps(_finite(verdict), indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def _x(text: Any) -> str:
    return _XML_BAD.sub("", "" if text is None else str(text))


def num(x: Any, digits: int = 4, signed: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def pval(p: Any) -> str:
    if p is None:
        return ""
    return "<1e-9" if p <= 1e-9 else f"{p:.3g}"


def details(rule: dict[str, Any]) -> str:
    """The numbers of one rule in one line."""
    parts = []
    if rule.get("candidate") is not None:
        parts.append(f"candidate {num(rule['candidate'])}")
    if rule.get("reference") is not None:
        parts.append(f"reference {num(rule['reference'])}")
    if rule.get("delta") is not None:
        parts.append(f"delta {num(rule['delta'], signed=True)}")
    b = rule.get("bounds") or {}
    if b.get("lower") is not None:
        parts.append(f"{b['confidence']:.0%} one-sided bounds [{num(b['lower'])}, {num(b['upper'])}]")
    if rule.get("p_value") is not None:
        parts.append(f"p {pval(rule['p_value'])}" + (f" (Holm {pval(rule['p_adjusted'])})"
                                                     if rule.get("p_adjusted") is not None else ""))
    if rule.get("n") is not None:
        parts.append(f"n {rule['n']}")
    if rule.get("method"):
        parts.append(str(rule["method"]))
    return "; ".join(parts)


def junit_xml(verdict: dict[str, Any]) -> str:
    """One test case per rule: ``failure`` for a failed rule (and an inconclusive one under ``--strict``),
    ``error`` for a rule the gate could not judge, ``skipped`` for an inconclusive rule (it passes with a
    warning) and for a rule that did not apply."""
    rules = verdict.get("rules") or []
    cand = (verdict.get("candidate") or {}).get("name")
    ref = (verdict.get("reference") or {}).get("name")
    name = f"harness gate: {cand} vs {ref}"
    suites = ET.Element("testsuites", name="harness gate")
    suite = ET.SubElement(suites, "testsuite", name=_x(name), timestamp=_x(verdict.get("created_at")))
    props = ET.SubElement(suite, "properties")
    for key in ("status", "exit_code", "strict", "alpha", "paired", "rules_source"):
        ET.SubElement(props, "property", name=key, value=_x(verdict.get(key)))
    for i, note in enumerate(verdict.get("notes") or []):
        ET.SubElement(props, "property", name=f"note{i + 1}", value=_x(note))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for rule in rules:
        counts["tests"] += 1
        case = ET.SubElement(suite, "testcase", classname=_x(f"harness.gate.{rule.get('kind')}"),
                             name=_x(rule.get("rule")), time="0")
        verdict_word, reason = rule.get("verdict"), _x(rule.get("reason"))
        if verdict_word == "fail" or (verdict_word == "inconclusive" and rule.get("blocking")):
            counts["failures"] += 1
            ET.SubElement(case, "failure", message=reason, type=_x(verdict_word)).text = _x(details(rule))
        elif verdict_word == "not_judged":
            counts["errors"] += 1
            ET.SubElement(case, "error", message=reason, type="could_not_judge").text = _x(details(rule))
        elif verdict_word in ("inconclusive", "skipped"):
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=_x(f"{verdict_word}: {reason}"))
        out = "\n".join(x for x in (reason, details(rule)) if x)
        ET.SubElement(case, "system-out").text = _x(out)
    if verdict.get("notes"):
        ET.SubElement(suite, "system-out").text = _x("\n".join(verdict["notes"]))
    for el in (suites, suite):
        for k, v in counts.items():
            el.set(k, str(v))
        el.set("time", "0")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def md(text: Any) -> str:
    """Markdown-safe text on one line: the characters that open markup (links, images, HTML, code, emphasis,
    tables, mentions) escaped, control characters removed."""
    if text is None:
        return ""
    return _MD_PUNCT.sub(r"\\\1", " ".join(_XML_BAD.sub("", str(text)).split()))


def markdown(verdict: dict[str, Any]) -> str:
    """A short summary fit for a pull-request comment."""
    cand = (verdict.get("candidate") or {}).get("name")
    ref = (verdict.get("reference") or {}).get("name")
    ref_source = (verdict.get("reference") or {}).get("source") or ""
    lines = [f"### {STATUS.get(verdict.get('status') or '', md(verdict.get('status')))}: "
             f"{md(cand)} vs {md(ref)}" + (f" \\({md(ref_source)}\\)" if ref_source.startswith("stored") else ""),
             ""]
    conf = f"{1 - verdict['alpha']:.0%} " if verdict.get("alpha") else ""
    lines += [f"| rule | verdict | candidate | reference | Δ | {conf}bounds | p | why |",
              "|---|---|---:|---:|---:|---|---:|---|"]
    for r in verdict.get("rules") or []:
        b = r.get("bounds") or {}
        bounds = f"[{num(b['lower'])}, {num(b['upper'])}]" if b.get("lower") is not None else ""
        p = pval(r.get("p_adjusted") if r.get("p_adjusted") is not None else r.get("p_value"))
        word = r.get("verdict") or ""
        lines.append(f"| {md(r.get('rule'))} | {ICONS.get(word, '')} {md(word.replace('_', ' '))} | "
                     f"{num(r.get('candidate')) if r.get('candidate') is not None else ''} | "
                     f"{num(r.get('reference')) if r.get('reference') is not None else ''} | "
                     f"{num(r.get('delta'), signed=True) if r.get('delta') is not None else ''} | {bounds} | {p} | "
                     f"{md(r.get('reason'))} |")
    lines.append("")
    for note in verdict.get("notes") or []:
        lines.append(f"> ⚠️ {md(note)}")
    if verdict.get("notes"):
        lines.append("")
    settings = []
    if verdict.get("alpha"):
        settings.append(f"one-sided alpha {verdict['alpha']:g}, Holm across {verdict['family']['size']} rule(s)")
    settings.append("strict" if verdict.get("strict") else "inconclusive rules pass with a warning")
    if verdict.get("rules_source"):
        settings.append(f"rules: {md(verdict['rules_source'])}")
    lines.append(f"<sub>harness gate — exit code {verdict.get('exit_code')}; {'; '.join(settings)}</sub>")
    return "\n".join(lines) + "\n"
