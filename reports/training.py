"""Training-curve section: per fine-tuning job, loss/accuracy against step and checkpoints' held-out scores."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import charts
from .sections import d, fmt, is_best, lst, metric_meta, num, primary_metric, signed, text

_COLOURS = {"train_loss": "#0072B2", "valid_loss": "#D55E00", "train_accuracy": "#009E73",
            "valid_mean_token_accuracy": "#CC79A7", "valid_accuracy": "#CC79A7"}
_SPARE = ("#E69F00", "#56B4E9", "#8C564B", "#000000")


def _column(values: Any, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    for i, v in enumerate(lst(values)[:n]):
        f = num(v)
        if f is not None:
            out[i] = f
    return out


def _heldout_metric(results: dict[str, Any]) -> dict[str, Any] | None:
    metrics = metric_meta(results)
    return metrics[primary_metric(metrics)] if metrics else None


def training_section(results: dict[str, Any]) -> list[dict[str, Any]]:
    training = d(results.get("training"))
    metric = _heldout_metric(results)
    values = {text(m.get("name")): num(d(d(m.get("metrics")).get(metric["name"])).get("value")) if metric else None
              for m in lst(results.get("models")) if isinstance(m, dict)}
    jobs = []
    for idx, (job_name, job) in enumerate(training.items()):
        job = d(job)
        curves = d(job.get("curves"))
        lengths = [len(v) for v in curves.values() if isinstance(v, list)]
        n = max(lengths, default=0)
        step = _column(curves.get("step"), n) if "step" in curves else np.arange(1, n + 1, dtype=float)
        loss, acc, spare = [], [], iter(_SPARE * 4)
        for key, col in curves.items():
            if key in ("step", "epoch") or not isinstance(col, list):
                continue
            y = _column(col, n)
            if np.isnan(y).all():
                continue
            mask = ~np.isnan(step)
            line = charts.Line(text(key).replace("_", " "), step[mask], y[mask],
                               _COLOURS.get(key) or next(spare, "#6b7280"))
            if "loss" in key:
                loss.append(line)
            elif "acc" in key:
                acc.append(line)
        ckpts = []
        for c in lst(job.get("checkpoints")):
            c = d(c)
            model = text(c.get("model"))
            ckpts.append({"model": model, "step": num(c.get("step")), "epoch": text(c.get("epoch")),
                          "value": values.get(model), "extra": [(text(k), fmt(v) if num(v) is not None else text(v))
                                                                for k, v in d(c.get("metrics")).items()]})
        base_name = text(job.get("base_model")) or None
        base_value = values.get(base_name) if base_name else None
        scored = [c["value"] for c in ckpts if c["value"] is not None]
        best_value = None
        if scored and metric:
            best_value = max(scored) if metric["higher_is_better"] else min(scored)
        for c in ckpts:
            c["best"] = c["value"] is not None and best_value is not None and len(scored) > 1 and \
                is_best(c["value"], best_value)
            c["text"] = fmt(c["value"])
            c["delta"] = signed(c["value"] - base_value) if c["value"] is not None and base_value is not None else ""
        markers = [charts.Marker(c["model"], c["step"], c["value"], best=c["best"]) for c in ckpts
                   if c["value"] is not None and c["step"] is not None]
        if base_value is not None and markers:
            markers.insert(0, charts.Marker(base_name, 0.0, base_value, base=True))
        svg = None
        if loss or acc or markers:
            svg = charts.draw(charts.training_chart, loss, acc, markers,
                              metric["title"].lower() if metric else "score", f"training-{idx}",
                              f"Training curves of {job_name}")
        jobs.append({"name": text(job_name), "kind": text(job.get("kind")), "source": text(job.get("source")),
                     "base": base_name, "base_value": fmt(base_value) if base_value is not None else None,
                     "metric": metric["title"] if metric else "", "checkpoints": ckpts, "svg": svg,
                     "steps": n, "series": [ln.label for ln in (*loss, *acc)],
                     "has_extra": any(c["extra"] for c in ckpts)})
    return jobs
