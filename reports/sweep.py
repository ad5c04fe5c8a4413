"""Fine-tuning runs side by side: each model's training parameters (hyperparameters of its job, epoch, step,
training size), its cost and its held-out primary metric with the interval, and a plot of that metric against
the parameter that was swept (the first that varies, in the order: the jobs' hyperparameters, training size,
epoch, step). Shown when at least two models carry such parameters."""

from __future__ import annotations

from typing import Any

from . import figures
from .charts import BASELINE_COLOUR, Style, draw
from .sections import d, fmt, lst, metric_meta, num, primary_metric, text

INFO_KEYS = ("n_epochs", "learning_rate_multiplier", "batch_size", "learning_rate", "trained_on", "trained_tokens",
             "epoch", "step")
TITLES = {"n_epochs": "epochs (job)", "learning_rate_multiplier": "LR multiplier", "batch_size": "batch size",
          "learning_rate": "learning rate", "trained_on": "training examples", "trained_tokens": "trained tokens",
          "epoch": "epoch", "step": "step"}
SWEEP_ORDER = ("n_epochs", "learning_rate_multiplier", "batch_size", "learning_rate", "trained_on",
               "trained_tokens", "epoch", "step")


def _params(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    jobs = {text(k): d(d(v).get("job")) for k, v in d(results.get("training")).items()}
    out: dict[str, dict[str, float]] = {}
    for m in lst(results.get("models")):
        m = d(m)
        name, info = text(m.get("name")), d(m.get("info"))
        params: dict[str, float] = {}
        job = next((j for prefix, j in jobs.items() if name.startswith(prefix + "/")), {})
        sources = [d(job.get("hyperparameters")), d(info.get("hyperparameters")), info]
        if num(job.get("trained_tokens")) is not None and info.get("role") != "base":
            params["trained_tokens"] = float(job["trained_tokens"])
        for src in sources:
            for key in INFO_KEYS:
                v = num(src.get(key))
                if v is not None:
                    params[key] = v
        if info.get("role") == "base" and params:
            params.setdefault("epoch", 0.0)
            params.setdefault("step", 0.0)
        if params:
            out[name] = params
    return out


def sweep_section(results: dict[str, Any], styles: dict[str, Style]) -> dict[str, Any] | None:
    params = _params(results)
    if len(params) < 2:
        return None
    keys = [k for k in INFO_KEYS if sum(k in p for p in params.values()) >= 2]
    varying = [k for k in SWEEP_ORDER if k in keys and len({p[k] for p in params.values() if k in p}) >= 2]
    metrics = metric_meta(results)
    if not metrics or not keys:
        return None
    metric = metrics[primary_metric(metrics)]
    verdict = d(results.get("verdict"))
    sel = d(verdict.get("selection"))
    members = {text(x) for x in lst(sel.get("members"))}
    rec = text(sel.get("recommended"))
    rows, points = [], []
    for m in lst(results.get("models")):
        m = d(m)
        name = text(m.get("name"))
        if name not in params:
            continue
        value = num(d(d(m.get("metrics")).get(metric["name"])).get("value"))
        iv = d(d(m.get("intervals")).get(metric["name"]))
        low, high = num(iv.get("low")), num(iv.get("high"))
        cost = num(d(m.get("cost")).get("usd"))
        rows.append({"name": name, "style": styles.get(name), "params": [_cell(params[name].get(k)) for k in keys],
                     "cost": "—" if cost is None else f"${cost:,.4f}", "value": fmt(value),
                     "ci": f"[{fmt(low, 3)}, {fmt(high, 3)}]" if low is not None and high is not None else "",
                     "in_set": name in members, "recommended": name == rec})
        if value is not None:
            st = styles.get(name) or Style(BASELINE_COLOUR)
            points.append((name, params[name], value, low, high, st.colour))
    svg = None
    rich = [k for k in varying if len({p[k] for p in params.values() if k in p}) >= 3]
    swept = (rich or varying or [None])[0]
    pts = [figures.SweepPoint(n, ps[swept], v, lo, hi, c) for n, ps, v, lo, hi, c in points if swept in ps]
    if swept and len({p.x for p in pts}) >= 2:
        svg = draw(figures.sweep_chart, pts, TITLES[swept], metric["title"], "sweep")
    return {"columns": [TITLES[k] for k in keys], "rows": rows, "metric": metric["title"],
            "swept": TITLES[swept] if swept else None, "svg": svg, "has_set": bool(members)}


def _cell(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{int(v):,}" if v == int(v) else f"{v:g}"
