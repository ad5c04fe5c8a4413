"""View models built from results.json alone: header, metrics table, outputs, comparisons, usage, metadata.

Every builder reads with ``.get`` and type checks, so an older, partial or hand-edited results file renders
whatever it has; a section with nothing to show returns an empty/None value and the template leaves it out.
All text stays plain ``str``: the templates autoescape it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from .charts import Style


def d(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def lst(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def num(x: Any) -> float | None:
    """A finite float, or None (bools, strings, NaN and missing values are not numbers here)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(x) else None


def text(x: Any) -> str:
    if x is None:
        return ""
    return x if isinstance(x, str) else json.dumps(x, ensure_ascii=False, sort_keys=True, default=str)


def shareable_path(x: Any, suite_dir: str | None = None) -> str:
    """A path as a report meant for sharing shows it: a relative path as written; an absolute one relative to the
    suite folder when it is inside it, else only its last folder and name — never this machine's folders."""
    p = text(x)
    if not (PurePosixPath(p).is_absolute() or PureWindowsPath(p).is_absolute() or p.startswith("~")):
        return p
    path = PureWindowsPath(p) if PureWindowsPath(p).drive else PurePosixPath(p)
    if suite_dir and path.is_relative_to(suite_dir):
        return path.relative_to(suite_dir).as_posix()
    return "…/" + "/".join(path.parts[-2:])


def _suite_dir(results: dict[str, Any]) -> str | None:
    path = text(d(results.get("suite")).get("path"))
    return str(PurePosixPath(path).parent) if PurePosixPath(path).is_absolute() else None


def _shareable_spec(spec: Any, suite_dir: str | None) -> str:
    provider, colon, argument = text(spec).partition(":")
    return provider + colon + shareable_path(argument, suite_dir) if colon else text(spec)


def fmt(x: Any, digits: int = 4) -> str:
    v = num(x)
    return "n/a" if v is None else f"{v:.{digits}f}"


def signed(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:+.{digits}f}".replace("-", "−")


def model_names(results: dict[str, Any]) -> list[str]:
    return [text(m.get("name")) for m in lst(results.get("models")) if isinstance(m, dict)]


def metric_meta(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for m in lst(results.get("metrics")):
        m = d(m)
        name = text(m.get("name"))
        if not name:
            continue
        hib = m.get("higher_is_better")
        out.append({"name": name, "title": text(m.get("title")) or name, "description": text(m.get("description")),
                    "higher_is_better": hib is not False, "plugin": text(m.get("plugin")),
                    "arrow": "↓" if hib is False else "↑"})
    return out


def labels_of(results: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for lab in lst(d(results.get("suite")).get("labels")):
        if isinstance(lab, dict) and lab.get("name") is not None:
            out.append({"name": text(lab["name"]), "display": text(lab.get("display")) or text(lab["name"])})
        elif isinstance(lab, str):
            out.append({"name": lab, "display": lab})
    return out


def header(results: dict[str, Any]) -> dict[str, Any]:
    suite = d(results.get("suite"))
    labels = labels_of(results)
    display = {lab["name"]: lab["display"] for lab in labels}
    ds = d(suite.get("dataset"))
    timings = [(title, num(d(results.get("timings")).get(key))) for key, title in
               (("load_seconds", "load"), ("predict_seconds", "predict"), ("metrics_seconds", "metrics"),
                ("total_seconds", "total"))]
    positive = suite.get("positive")
    return {
        "name": text(suite.get("name")) or "harness run",
        "description": text(suite.get("description")).strip(),
        "task": text(suite.get("task")),
        "labels": labels,
        "positive": None if positive is None else {"name": text(positive),
                                                   "display": display.get(text(positive), text(positive))},
        "dataset": {"path": shareable_path(ds.get("path"), _suite_dir(results)), "sha256": text(ds.get("sha256")),
                    "n": num(ds.get("n_examples")), "format": text(ds.get("format"))} if ds else None,
        "harness_version": text(results.get("harness_version")),
        "created_at": text(results.get("created_at")),
        "timings": [(t, v) for t, v in timings if v is not None],
        "baseline": text(results.get("baseline")) or None,
    }


def best_models(results: dict[str, Any], metrics: Sequence[dict[str, Any]]
                ) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(metric → models with the best value (ties included; only when at least two models are ranked),
    metric → models not ranked because their value is on a different example set)."""
    from harness.metrics import ranked_group

    best: dict[str, set[str]] = {}
    unranked: dict[str, set[str]] = {}
    for m in metrics:
        vals = []
        for mod in lst(results.get("models")):
            mv = d(d(d(mod).get("metrics")).get(m["name"]))
            v = num(mv.get("value"))
            if isinstance(mod, dict) and v is not None:
                subset = mv.get("subset")
                vals.append((text(mod.get("name")), v, subset if isinstance(subset, str) else None))
        group = ranked_group(vals)
        unranked[m["name"]] = {n for n, _, _ in vals if n not in group}
        ranked = [(n, v) for n, v, _ in vals if n in group]
        if len(ranked) < 2:
            continue
        target = (max if m["higher_is_better"] else min)(v for _, v in ranked)
        best[m["name"]] = {n for n, v in ranked if is_best(v, target)}
    return best, unranked


def ci_level(results: dict[str, Any]) -> str:
    alpha = num(d(results.get("comparisons")).get("alpha"))
    return f"{(1 - alpha) * 100:g}% CI" if alpha is not None and 0 < alpha < 1 else "CI"


def metrics_table(results: dict[str, Any], styles: dict[str, Style]) -> dict[str, Any]:
    metrics = metric_meta(results)
    best, unranked = best_models(results, metrics)
    baseline = text(results.get("baseline"))
    level = ci_level(results)
    notes: dict[str, dict[str, Any]] = {}
    rows = []
    for mod in lst(results.get("models")):
        if not isinstance(mod, dict):
            continue
        name = text(mod.get("name"))
        intervals = d(mod.get("intervals"))
        cells = []
        for m in metrics:
            mv = d(d(mod.get("metrics")).get(m["name"]))
            value = num(mv.get("value"))
            cell: dict[str, Any] = {"value": value, "text": fmt(value), "best": name in best.get(m["name"], ()),
                                    "n": num(mv.get("n")), "ci": None, "note": None, "reason": None,
                                    "unranked": name in unranked.get(m["name"], ()), "ci_reason": None,
                                    "subset": None}
            if value is None:
                reason = text(mv.get("reason")) or ("not computed" if not mv else "no reason given")
                note = notes.setdefault(reason, {"n": len(notes) + 1, "reason": reason, "cells": []})
                note["cells"].append(f"{name} · {m['title']}")
                cell.update(note=note["n"], reason=reason)
            iv = d(intervals.get(m["name"]))
            low, high = num(iv.get("low")), num(iv.get("high"))
            if value is not None and low is not None and high is not None:
                method = text(iv.get("method"))
                cell["ci"] = {"low": fmt(low, 3), "high": fmt(high, 3),
                              "title": f"{level}" + (f" ({method})" if method else "")}
            elif value is not None and iv.get("reason"):
                cell["ci_reason"] = f"no {level}: {text(iv.get('reason'))}"
            if cell["unranked"]:
                n_all = num(d(mod.get("counts")).get("n"))
                cell["subset"] = (f"on {fmt(cell['n'], 0)} of {fmt(n_all, 0)} examples: a different example set, "
                                  "not ranked against the others")
            cells.append(cell)
        scoring = d(mod.get("info")).get("scoring")  # how the provider scored the model (e.g. logprobs, generation)
        rows.append({"name": name, "baseline": name == baseline, "style": styles.get(name), "cells": cells,
                     "scoring": text(scoring) if scoring not in (None, "", {}) else "",
                     "not_scored": text(mod.get("not_scored_reason")) if mod.get("scored") is False else None})
    return {"columns": metrics, "rows": rows, "notes": list(notes.values()),
            "has_ci": any(c["ci"] for r in rows for c in r["cells"]), "ci_level": level,
            "has_unranked": any(c["unranked"] for r in rows for c in r["cells"])}


def outputs_table(results: dict[str, Any], styles: dict[str, Style],
                  flags: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    rows = []
    for mod in lst(results.get("models")):
        if not isinstance(mod, dict):
            continue
        name = text(mod.get("name"))
        c = d(mod.get("counts"))
        rows.append({"name": name, "baseline": name == text(results.get("baseline")), "style": styles.get(name),
                     "n": num(c.get("n")), "ok": num(c.get("ok")), "invalid": num(c.get("invalid")),
                     "failed": num(c.get("failed")), "flagged": num(c.get("flagged")),
                     "flags": flags.get(name, {}), "seconds": num(d(mod.get("timing")).get("seconds")),
                     "error": text(mod.get("error")) or None})
    return rows


def _verdict(delta: float | None, p_use: float | None, alpha: float, higher_is_better: bool) -> tuple[str, str]:
    if p_use is None or delta is None:
        return "not tested", "none"
    if p_use < alpha and delta != 0:
        return ("better", "better") if (delta > 0) == higher_is_better else ("worse", "worse")
    return f"no significant difference at α = {alpha:g}", "same"


def comparisons(results: dict[str, Any]) -> dict[str, Any] | None:
    """``results["comparisons"]`` as harness.compare writes it: per pair (``a`` = the candidate, ``b`` = usually
    the baseline) and metric, ``delta`` = value(a) − value(b) with its interval, p and adjusted p; plus a
    verdict for A."""
    comp = results.get("comparisons")
    if not isinstance(comp, dict):
        return None
    meta = {m["name"]: m for m in metric_meta(results)}
    alpha = num(comp.get("alpha"))
    alpha_ = alpha if alpha is not None and 0 < alpha < 1 else 0.05
    pairs = []
    for pair in lst(comp.get("pairs")):
        pair = d(pair)
        a, b = text(pair.get("a")), text(pair.get("b"))
        rows = []
        for mname, st in d(pair.get("metrics")).items():
            st = d(st)
            m = meta.get(mname, {"title": text(mname), "higher_is_better": True, "description": ""})
            delta, low, high = num(st.get("delta")), num(st.get("low")), num(st.get("high"))
            p, p_adj = num(st.get("p_value")), num(st.get("p_adjusted"))
            used = num(st.get("n_resamples"))
            n_used = num(st.get("n"))
            floor = 1.0 / (used + 1.0) if used else None  # a bootstrap p-value cannot go below 1/(B+1)
            verdict, kind = _verdict(delta, p_adj if p_adj is not None else p, alpha_, m["higher_is_better"])
            rows.append({"metric": m["title"], "description": m.get("description", ""),
                         "arrow": "↑" if m["higher_is_better"] else "↓",
                         "delta": signed(delta), "low": signed(low), "high": signed(high),
                         "d": delta, "lo": low, "hi": high,
                         "has_ci": low is not None and high is not None,
                         "p": _p(p, floor), "p_adj": _p(p_adj, floor), "method": text(st.get("method")),
                         "reason": text(st.get("reason")), "verdict": verdict, "kind": kind,
                         "n": None if n_used is None else int(n_used),
                         "value_a": fmt(st.get("value_a")), "value_b": fmt(st.get("value_b"))})
        mde = num(pair.get("mde_accuracy"))
        disc = d(pair.get("discordant"))
        a_only, b_only = num(disc.get("a_only")), num(disc.get("b_only"))
        pairs.append({"a": a, "b": b, "b_is_baseline": b == text(results.get("baseline")), "rows": rows,
                      "n": num(pair.get("n")), "mde": None if mde is None else fmt(mde, 3),
                      "discordant": None if a_only is None or b_only is None else (int(a_only), int(b_only))})
    omni = d(comp.get("omnibus"))
    omnibus = None
    if omni:
        df = num(omni.get("df"))
        omnibus = {"test": text(omni.get("test")) or "omnibus test", "on": text(omni.get("on")),
                   "statistic": fmt(omni.get("statistic"), 3), "df": None if df is None else f"{df:g}",
                   "p": _p(num(omni.get("p_value")))}
    mde = d(comp.get("mde"))
    mde_alpha = num(mde.get("alpha"))
    skipped = [f"{text(d(x).get('a'))} vs {text(d(x).get('b'))}: {text(d(x).get('reason'))}"
               for x in lst(comp.get("skipped"))]
    return {"alpha": f"{alpha_:g}", "n_resamples": text(comp.get("n_resamples")), "seed": text(comp.get("seed")),
            "correction": text(comp.get("correction")), "family": text(comp.get("family")),
            "omnibus": omnibus, "pairs": pairs, "skipped": skipped,
            "notes": [text(x) for x in lst(comp.get("notes"))],
            "mde_alpha": None if mde_alpha is None else f"{mde_alpha:.3g}", "mde_rule": text(mde.get("rule"))}


def _p(p: float | None, floor: float | None = None) -> str:
    """A p-value for display; at a resampling test's resolution limit it reads "≤ 1/(B+1)"."""
    if p is None:
        return "n/a"
    if floor is not None and p <= floor * (1 + 1e-9):
        return f"≤ {floor:.4f}"
    return "< 0.0001" if p < 1e-4 else f"{p:.4f}"


def usage_table(results: dict[str, Any]) -> dict[str, Any]:
    """Per-model ``usage``/``cost``/``failures`` (rows only for models that have any) and the run's ``cost``."""
    rows = []
    for mod in lst(results.get("models")):
        if not isinstance(mod, dict):
            continue
        usage, cost, failures = d(mod.get("usage")), d(mod.get("cost")), d(mod.get("failures"))
        if not (usage or cost or failures):
            continue
        pt, ct = num(usage.get("prompt_tokens")), num(usage.get("completion_tokens"))
        rows.append({"name": text(mod.get("name")), "requests": num(usage.get("requests")),
                     "cached": num(usage.get("cached")), "retries": num(usage.get("retries")),
                     "prompt_tokens": pt, "completion_tokens": ct,
                     "total_tokens": (pt or 0) + (ct or 0) if pt is not None or ct is not None else None,
                     "usd": num(cost.get("usd")), "spent": num(cost.get("spent_usd")),
                     "incomplete": cost.get("complete") is False, "source": text(cost.get("source")),
                     "failures": sorted(((text(k), num(v)) for k, v in failures.items()),
                                        key=lambda kv: (-(kv[1] or 0), kv[0]))})
    run = d(results.get("cost"))
    run_view = None
    if run and (rows or run.get("budget_exhausted") or num(run.get("usd"))):
        run_view = {"usd": num(run.get("usd")), "spent": num(run.get("spent_usd")),
                    "incomplete": run.get("complete") is False, "max_cost": num(run.get("max_cost")),
                    "exhausted": run.get("budget_exhausted") is True}
    return {"rows": rows, "run": run_view}


def metadata(results: dict[str, Any]) -> dict[str, Any]:
    """The footer: models, metrics and how the run was made. Paths are shown relative to the suite (see
    :func:`shareable_path`) and the response cache's location is left out: the page is meant to be shared."""
    models = []
    where = _suite_dir(results)
    for mod in lst(results.get("models")):
        if isinstance(mod, dict):
            models.append({"name": text(mod.get("name")), "provider": text(mod.get("provider")),
                           "spec": _shareable_spec(mod.get("spec"), where),
                           "info": [(text(k), shareable_path(v, where) if _is_path_key(k) else text(v))
                                    for k, v in d(mod.get("info")).items()]})
    suite = d(results.get("suite"))
    preds = d(results.get("predictions"))
    return {"models": models, "metrics": metric_meta(results),
            "metric_options": [(text(k), text(v)) for k, v in d(suite.get("metric_options")).items()],
            "suite_path": shareable_path(suite.get("path")), "format": text(results.get("format")),
            "schema_version": text(results.get("schema_version")),
            "predictions": f"{text(preds.get('path'))} ({text(preds.get('rows'))} rows)" if preds else "",
            "engine": [(text(k), text(v)) for k, v in d(results.get("engine")).items()
                       if v not in (None, [], {}, "") and k != "cache"]}


def _is_path_key(key: Any) -> bool:
    return isinstance(key, str) and (key.endswith("path") or key.endswith("file") or key == "folder")


def is_best(value: float, best: float) -> bool:
    """Ties (within float rounding) all count as best."""
    return abs(value - best) <= 1e-12


def primary_metric(metrics: Sequence[dict[str, Any]]) -> int:
    """Index of the metric the summary and training chart lead with: accuracy, else the first."""
    return next((i for i, m in enumerate(metrics) if m["name"] == "accuracy"), 0)


def glance(results: dict[str, Any], table: dict[str, Any], comp: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Plain-language findings for the top of the page: best model on the primary metric vs the baseline."""
    cols = table["columns"]
    if not cols or not table["rows"]:
        return []
    j = primary_metric(cols)
    col = cols[j]
    best = [r for r in table["rows"] if r["cells"][j]["best"]]
    out: list[dict[str, Any]] = []
    if best:
        value = best[0]["cells"][j]["value"]
        base = next((r for r in table["rows"] if r["baseline"]), None)
        item: dict[str, Any] = {"kind": "best", "metric": col["title"], "models": [r["name"] for r in best],
                                "value": fmt(value), "baseline": None, "test": None}
        if base is not None and base["cells"][j]["value"] is not None and base not in best:
            item.update(baseline=base["name"], baseline_value=base["cells"][j]["text"],
                        delta=signed(value - base["cells"][j]["value"]))
            for pair in (comp or {}).get("pairs", []):
                if {pair["a"], pair["b"]} == {base["name"], best[0]["name"]}:
                    row = next((r for r in pair["rows"] if r["metric"] == col["title"]), None)
                    if row is not None and row["kind"] != "none":
                        item["test"] = {"p_adj": row["p_adj"] if row["p_adj"] != "n/a" else row["p"],
                                        "significant": row["kind"] in ("better", "worse"),
                                        "alpha": comp["alpha"]}
        out.append(item)
    for mod in lst(results.get("models")):
        c = d(d(mod).get("counts"))
        bad = (num(c.get("invalid")) or 0) + (num(c.get("failed")) or 0)
        if d(mod).get("scored") is False:
            out.append({"kind": "not_scored", "model": text(d(mod).get("name")),
                        "reason": text(d(mod).get("not_scored_reason"))})
        elif bad:
            out.append({"kind": "bad", "model": text(d(mod).get("name")), "invalid": num(c.get("invalid")) or 0,
                        "failed": num(c.get("failed")) or 0, "n": num(c.get("n"))})
    return out
