"""The run's verdict, in words and as data (``results.json`` ``verdict``, docs/results-format.md): for each
candidate vs the baseline, better / worse (a regression) / mixed / not distinguishable per metric family
(accuracy, discrimination, calibration), and, when several models were compared, which one to ship — the
set of models that cannot be distinguished from the best on the primary metric (:mod:`.selection`) and the
documented tie-break — chosen on the validation split when the suite has one.

Everything here reads the paired comparisons already in ``results["comparisons"]`` (Holm-adjusted p-values,
``p_adjusted < alpha`` as in the ▲/▼ marks) except the best set, which needs the per-example data.

Vocabulary shared with the CI gate (docs/ci.md): ``worse`` here is a two-sided paired test at ``alpha`` with
Holm across the run's comparisons; the gate's ``regression`` rule fails on a one-sided test at ``alpha`` with
Holm across its rules. A metric the report calls worse is one the gate's regression rule (margin 0) fails
on, except at the boundary where the two corrections differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..metrics import Metric, MetricData
from .selection import mcb, ranked_info, tie_break

VERSION = 1
FAMILIES = ("accuracy", "discrimination", "calibration")
BETTER, WORSE, MIXED, SAME, NOT_TESTED = "better", "worse", "mixed", "not_distinguishable", "not_tested"
WORDS = {BETTER: "better", WORSE: "worse (a regression)", MIXED: "mixed", SAME: "not distinguishable",
         NOT_TESTED: "not tested"}


def metric_call(row: Mapping[str, Any], higher_is_better: bool, alpha: float) -> str:
    """better / worse / not_distinguishable / not_tested for one metric of one pair (for A vs B)."""
    delta = row.get("delta")
    p = row.get("p_adjusted")
    if p is None:
        p = row.get("p_value")
    if delta is None or p is None:
        return NOT_TESTED
    if p < alpha and delta != 0:
        return BETTER if (delta > 0) == higher_is_better else WORSE
    return SAME


def family_call(calls: Sequence[str]) -> str:
    tested = [c for c in calls if c != NOT_TESTED]
    if not tested:
        return NOT_TESTED
    better, worse = BETTER in tested, WORSE in tested
    if better and worse:
        return MIXED
    return BETTER if better else WORSE if worse else SAME


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.4f}"


def pair_verdict(pair: Mapping[str, Any], metrics: Sequence[Mapping[str, Any]], alpha: float) -> dict[str, Any]:
    """Per family: the call and the metrics behind it; overall: better / worse / mixed / not distinguishable."""
    families: dict[str, Any] = {}
    for fam in (*FAMILIES, ""):
        members = [m for m in metrics if (m.get("family") or "") == fam]
        if not members:
            continue
        entries = []
        for m in members:
            row = (pair.get("metrics") or {}).get(m["name"]) or {}
            call = metric_call(row, m.get("higher_is_better", True) is not False, alpha)
            entries.append({"metric": m["name"], "call": call, "delta": row.get("delta"),
                            "low": row.get("low"), "high": row.get("high"), "p_adjusted": row.get("p_adjusted")})
        key = fam or "other"
        families[key] = {"call": family_call([e["call"] for e in entries]), "metrics": entries}
    summarised = [families[f]["call"] for f in FAMILIES if f in families]
    overall = family_call([c for c in summarised if c != MIXED] + ([BETTER, WORSE] if MIXED in summarised else []))
    regression = [f for f in FAMILIES if f in families and families[f]["call"] in (WORSE, MIXED)]
    return {"a": pair.get("a"), "b": pair.get("b"), "call": overall, "families": families,
            "regression": regression, "sentence": pair_sentence(pair, families, overall)}


def pair_sentence(pair: Mapping[str, Any], families: Mapping[str, Any], overall: str) -> str:
    parts = []
    for fam in FAMILIES:
        if fam not in families:
            continue
        f = families[fam]
        call = f["call"]
        if call in (BETTER, WORSE, MIXED):
            moved = [f"{e['metric']} {_fmt(e['delta'])}" for e in f["metrics"] if e["call"] in (BETTER, WORSE)]
            shown = ", ".join(moved[:2]) + (f" and {len(moved) - 2} more" if len(moved) > 2 else "")
            word = {BETTER: "better", WORSE: "worse — a regression", MIXED: "mixed"}[call]
            if call == MIXED:
                better = ", ".join(e["metric"] for e in f["metrics"] if e["call"] == BETTER)
                worse = ", ".join(e["metric"] for e in f["metrics"] if e["call"] == WORSE)
                parts.append(f"{fam}: mixed (better {better}; worse {worse} — a regression there)")
            else:
                parts.append(f"{fam}: {word} ({shown})")
        else:
            parts.append(f"{fam}: {WORDS[call]}")
    head = {BETTER: "better", WORSE: "worse — a regression", MIXED: "mixed (better in some respects, worse in others)",
            SAME: "not distinguishable", NOT_TESTED: "not tested"}[overall]
    return f"{pair.get('a')} vs {pair.get('b')}: {head}" + (f" — {'; '.join(parts)}" if parts else "")


def primary_metric(metrics: Sequence[Mapping[str, Any]], requested: str | None = None) -> str | None:
    names = [m["name"] for m in metrics]
    if requested in names:
        return requested
    return "accuracy" if "accuracy" in names else (names[0] if names else None)


def tie_metric(metrics: Sequence[Mapping[str, Any]], requested: str | None = None) -> str | None:
    names = [m["name"] for m in metrics]
    if requested in names:
        return requested
    return next((m["name"] for m in metrics if m.get("family") == "calibration"), None)


def build(results: Mapping[str, Any], datas: Mapping[str, MetricData], metrics: Mapping[str, Metric], *,
          alpha: float, n_resamples: int, seed: int, primary: str | None = None, tie: str | None = None,
          validation: Mapping[str, MetricData] | None = None) -> dict[str, Any]:
    """The ``verdict`` object of results.json. ``datas`` are the scored models' held-out data,
    ``validation`` the same models' validation data (when the suite has a validation split)."""
    meta = list(results.get("metrics") or [])
    comp = results.get("comparisons") or {}
    baseline = results.get("baseline")
    primary_name = primary_metric(meta, primary)
    tie_name = tie_metric(meta, tie)
    pairs = [pair_verdict(p, meta, alpha) for p in comp.get("pairs") or []]
    out: dict[str, Any] = {"version": VERSION, "alpha": alpha, "primary_metric": primary_name,
                           "baseline": baseline, "pairs": pairs, "selection": None,
                           "correction": "holm (the comparisons' p_adjusted)"}
    selection = None
    scored = [m for m in results.get("models") or [] if m.get("name") in datas]
    if primary_name is not None and len(scored) >= 3:
        selection = select(results, scored, datas, metrics, primary_name, tie_name, alpha, n_resamples, seed,
                           validation)
    if selection and selection.get("chosen_on") == "validation" and selection.get("recommended"):
        selection["confirmation"] = confirmation(results, pairs, selection["recommended"], primary_name)
    out["selection"] = selection
    candidate = _candidate(results, pairs, selection)
    out["candidate"] = candidate
    out["headline"] = headline(out, candidate)
    return out


def select(results: Mapping[str, Any], scored: Sequence[Mapping[str, Any]], datas: Mapping[str, MetricData],
           metrics: Mapping[str, Metric], primary: str, tie: str | None, alpha: float, n_resamples: int,
           seed: int, validation: Mapping[str, MetricData] | None) -> dict[str, Any]:
    names = [m["name"] for m in scored]
    on_validation = validation is not None and all(n in validation for n in names)
    source = {n: (validation or {})[n] for n in names} if on_validation else {n: datas[n] for n in names}
    found = mcb(source, metrics[primary], alpha, n_resamples, seed)
    sel: dict[str, Any] = {"metric": primary, "chosen_on": "validation" if on_validation else "held-out",
                           "tie_break_metric": tie, **found}
    if "reason" in found:
        sel.update(recommended=None, tie_break=[], optimistic=False)
        return sel
    ranked = ranked_info(scored, metrics.get(tie) if tie else None)
    if on_validation and tie in metrics:  # the tie-break reads the validation values too
        from ..metrics import evaluate
        for n in names:
            v = evaluate(metrics[tie], source[n]).value
            ranked[n].tie_value = None if v is None else (v if not metrics[tie].higher_is_better else -v)
    rec, steps = tie_break(found["members"], str(results.get("baseline")), ranked, tie)
    sel["recommended"] = rec
    sel["tie_break"] = steps
    sel["optimistic"] = not on_validation
    sel["note"] = (f"chosen on the validation split; the held-out numbers of {rec} confirm it on examples the "
                   "choice never saw" if on_validation else
                   f"chosen on the held-out set itself: the winner's held-out {primary} is optimistic (the best "
                   f"of {len(names)} noisy scores is biased upward); " + _no_validation(names, validation))
    return sel


def _no_validation(names: Sequence[str], validation: Mapping[str, MetricData] | None) -> str:
    """Why the choice was not made on a validation split: the suite has none, or models have no scores there."""
    if validation is None:
        return "add a `validation:` split to the suite to choose on it and confirm on held-out"
    missing = [n for n in names if n not in validation]
    return (f"the suite's validation split has no scored predictions from {', '.join(missing)} (a predictions "
            "file holding held-out ids only, or a model that failed there), so it could not be chosen on")


def confirmation(results: Mapping[str, Any], pairs: Sequence[Mapping[str, Any]], model: str, metric: str
                 ) -> dict[str, Any]:
    """The held-out numbers of the model chosen on validation: an unbiased look at the choice."""
    entry = next((m for m in results.get("models") or [] if m.get("name") == model), {})
    value = ((entry.get("metrics") or {}).get(metric) or {}).get("value")
    pair = next((p for p in pairs if p["a"] == model and p["b"] == results.get("baseline")), None)
    return {"model": model, "metric": metric, "heldout_value": value,
            "vs_baseline": pair["call"] if pair else None, "sentence": pair["sentence"] if pair else None}


def _candidate(results: Mapping[str, Any], pairs: Sequence[Mapping[str, Any]],
               selection: Mapping[str, Any] | None) -> str | None:
    """The model the report compares with the baseline example by example: the recommended model, else the
    only candidate, else the last model compared with the baseline."""
    baseline = results.get("baseline")
    if selection and selection.get("recommended") and selection["recommended"] != baseline:
        return str(selection["recommended"])
    vs_base = [p["a"] for p in pairs if p["b"] == baseline]
    return vs_base[-1] if vs_base else None


def headline(v: Mapping[str, Any], candidate: str | None) -> str:
    sel = v.get("selection")
    baseline = v.get("baseline")
    alpha = v.get("alpha")
    if sel and sel.get("recommended"):
        members = sel["members"]
        metric = sel["metric"]
        where = "on the validation split" if sel["chosen_on"] == "validation" else "on the held-out set"
        if sel["recommended"] == baseline:
            return (f"Keep {baseline}: no model is shown better on {metric} ({len(members)} of "
                    f"{len(sel['models'])} models cannot be distinguished from the best {where}, α = {alpha:g}).")
        size = ("it is the only model that cannot be distinguished from the best" if len(members) == 1 else
                f"{len(members)} models cannot be distinguished from the best ({', '.join(members)}); "
                f"the tie-break rule picks {sel['recommended']} ({'; '.join(sel.get('tie_break') or [])})")
        return f"Ship {sel['recommended']}: on {metric} {where}, {size} (α = {alpha:g})."
    pair = next((p for p in v.get("pairs") or [] if p["a"] == candidate and p["b"] == baseline), None)
    if pair is None:
        return "No comparison with the baseline was made."
    return pair["sentence"] + "."
