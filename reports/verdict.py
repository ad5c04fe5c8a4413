"""The verdict section, first on the page: results.json ``verdict`` (computed by the run, see
harness.analysis.verdict) as a view model — the headline, the best set and its tie-break, and each comparison
per metric family in words. Results without a ``verdict`` (older runs) get none; the page still renders."""

from __future__ import annotations

from typing import Any

from .charts import Style
from .sections import d, fmt, lst, metric_meta, num, signed, text

WORDS = {"better": "better", "worse": "worse — a regression", "mixed": "mixed", "not_distinguishable":
         "not distinguishable", "not_tested": "not tested"}
MARKS = {"better": "▲", "worse": "▼", "mixed": "▲▼", "not_distinguishable": "=", "not_tested": "—"}
FAMILY_TITLES = {"accuracy": "Accuracy", "discrimination": "Discrimination", "calibration": "Calibration",
                 "other": "Other metrics"}


def _call(x: Any) -> str:
    c = text(x)
    return c if c in WORDS else "not_tested"


def verdict_section(results: dict[str, Any], styles: dict[str, Style]) -> dict[str, Any] | None:
    v = d(results.get("verdict"))
    if not v or not text(v.get("headline")):
        return None
    titles = {m["name"]: m["title"] for m in metric_meta(results)}
    alpha = num(v.get("alpha"))
    families: list[str] = []
    pairs = []
    for p in lst(v.get("pairs")):
        p = d(p)
        fams = {}
        for fam, f in d(p.get("families")).items():
            f = d(f)
            if text(fam) not in families:
                families.append(text(fam))
            metrics = []
            for e in lst(f.get("metrics")):
                e = d(e)
                call = _call(e.get("call"))
                low, high = num(e.get("low")), num(e.get("high"))
                metrics.append({"metric": titles.get(text(e.get("metric")), text(e.get("metric"))), "call": call,
                                "mark": MARKS[call], "delta": signed(num(e.get("delta"))),
                                "ci": f"[{signed(low)}, {signed(high)}]" if low is not None and high is not None
                                else "", "p_adj": fmt(e.get("p_adjusted"))})
            call = _call(f.get("call"))
            moved = [{**m, "delta": m["delta"] + m["mark"]} for kind in ("worse", "better") for m in metrics
                     if m["call"] == kind]
            fams[text(fam)] = {"call": call, "word": WORDS[call], "mark": MARKS[call], "metrics": metrics,
                               "moved": moved}
        call = _call(p.get("call"))
        a, b = text(p.get("a")), text(p.get("b"))
        pairs.append({"a": a, "b": b, "style_a": styles.get(a), "style_b": styles.get(b), "call": call,
                      "word": WORDS[call], "mark": MARKS[call], "families": fams,
                      "b_is_baseline": b == text(results.get("baseline")),
                      "regression": [text(x) for x in lst(p.get("regression"))],
                      "sentence": text(p.get("sentence"))})
    order = [f for f in ("accuracy", "discrimination", "calibration", "other") if f in families]
    return {"headline": text(v.get("headline")), "alpha": "" if alpha is None else f"{alpha:g}",
            "primary": titles.get(text(v.get("primary_metric")), text(v.get("primary_metric"))),
            "families": [{"key": f, "title": FAMILY_TITLES[f]} for f in order], "pairs": pairs,
            "selection": _selection(d(v.get("selection")), titles, styles),
            "candidate": text(v.get("candidate")) or None,
            "kind": _kind(v)}


def _kind(v: dict[str, Any]) -> str:
    """The headline's tone: ship / keep / regression / better / same (for the box's colour and icon)."""
    sel = d(v.get("selection"))
    if sel.get("recommended"):
        return "keep" if sel["recommended"] == v.get("baseline") else "ship"
    cand = text(v.get("candidate"))
    pair = next((d(p) for p in lst(v.get("pairs")) if d(p).get("a") == cand and d(p).get("b") == v.get("baseline")),
                {})
    return {"better": "better", "worse": "regression", "mixed": "mixed"}.get(text(pair.get("call")), "same")


def _selection(sel: dict[str, Any], titles: dict[str, str], styles: dict[str, Style]) -> dict[str, Any] | None:
    if not sel:
        return None
    metric = titles.get(text(sel.get("metric")), text(sel.get("metric")))
    if sel.get("reason"):
        return {"reason": text(sel.get("reason")), "metric": metric}
    rec = text(sel.get("recommended"))
    rows = []
    for m in lst(sel.get("models")):
        m = d(m)
        name = text(m.get("name"))
        rows.append({"name": name, "style": styles.get(name), "value": fmt(m.get("value")),
                     "in_set": m.get("in_set") is True, "recommended": name == rec,
                     "best": name == text(sel.get("best")), "p": fmt(m.get("p_value"), 3),
                     "statistic": fmt(m.get("statistic"), 2), "critical": fmt(m.get("critical"), 2)})
    conf = d(sel.get("confirmation"))
    return {"reason": "", "metric": metric, "chosen_on": text(sel.get("chosen_on")), "recommended": rec,
            "members": [text(x) for x in lst(sel.get("members"))], "rows": rows,
            "tie_break": [text(x) for x in lst(sel.get("tie_break"))],
            "tie_metric": titles.get(text(sel.get("tie_break_metric")), text(sel.get("tie_break_metric"))),
            "optimistic": sel.get("optimistic") is True, "note": text(sel.get("note")),
            "method": text(sel.get("method")), "n": num(sel.get("n")), "n_resamples": num(sel.get("n_resamples")),
            "confirmation": {"value": fmt(conf.get("heldout_value")), "sentence": text(conf.get("sentence")),
                             "call": _call(conf.get("vs_baseline"))} if conf else None}
