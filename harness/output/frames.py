"""``results.json`` as pandas DataFrames, for notebooks and spreadsheets (``harness export`` writes them as CSV).

Generic over metrics and providers: every column comes from the results file itself.

    from harness.frames import load_frames
    frames = load_frames("out/results.json")
    frames.metrics          # one row per model: counts, each metric and its confidence interval, cost
    frames.comparisons      # one row per (pair, metric): delta, interval, p-values, which side is better
    frames.predictions      # one row per (model, example): gold, prediction, status, p_<label> per label
    frames.training         # one row per (job, step) of the fine-tuning curves (empty without jobs)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .results import load_predictions, load_results

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass
class Frames:
    metrics: pd.DataFrame
    comparisons: pd.DataFrame
    predictions: pd.DataFrame
    training: pd.DataFrame

    def items(self) -> list[tuple[str, pd.DataFrame]]:
        return [("metrics", self.metrics), ("comparisons", self.comparisons), ("predictions", self.predictions),
                ("training", self.training)]


def load_frames(path: str | Path) -> Frames:
    """Every table of a results file (``path``: results.json or the folder holding it)."""
    results = load_results(Path(path))
    rows = load_predictions(Path(path), results)
    return Frames(metrics_frame(results), comparisons_frame(results), predictions_frame(results, rows),
                  training_frame(results))


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame.from_records(rows, columns=list(columns))


def metrics_frame(results: dict[str, Any]) -> pd.DataFrame:
    """One row per model: ``model``, ``spec``, counts, then per metric ``NAME``, ``NAME_low``, ``NAME_high``."""
    names = [m["name"] for m in results.get("metrics") or []]
    columns = ["model", "spec", "baseline", "n", "ok", "invalid", "failed", "flagged"]
    for name in names:
        columns += [name, f"{name}_low", f"{name}_high"]
    columns += ["cost_usd", "error"]
    rows = []
    for model in results.get("models") or []:
        counts = model.get("counts") or {}
        row: dict[str, Any] = {"model": model.get("name"), "spec": model.get("spec"),
                               "baseline": model.get("name") == results.get("baseline"),
                               **{k: counts.get(k) for k in ("n", "ok", "invalid", "failed", "flagged")},
                               "cost_usd": (model.get("cost") or {}).get("usd"), "error": model.get("error")}
        intervals = model.get("intervals") or {}
        for name in names:
            row[name] = ((model.get("metrics") or {}).get(name) or {}).get("value")
            ci = intervals.get(name) or {}
            row[f"{name}_low"], row[f"{name}_high"] = ci.get("low"), ci.get("high")
        rows.append(row)
    return _frame(rows, columns)


def comparisons_frame(results: dict[str, Any]) -> pd.DataFrame:
    """One row per (pair, metric): ``a`` vs ``b``, ``delta = value_a - value_b`` (each model's metric on the
    ``n`` examples of that comparison) with its interval, p-values, and ``better``: the model that is
    significantly better after the correction (else empty)."""
    columns = ["a", "b", "metric", "delta", "low", "high", "p_value", "p_adjusted", "significant", "better",
               "method", "n", "mde_accuracy", "reason", "value_a", "value_b"]
    comp = results.get("comparisons") or {}
    alpha = comp.get("alpha", 0.05)
    higher = {m["name"]: m.get("higher_is_better", True) for m in results.get("metrics") or []}
    rows = []
    for pair in comp.get("pairs") or []:
        for metric, s in (pair.get("metrics") or {}).items():
            p = s.get("p_adjusted", s.get("p_value"))
            significant = p is not None and p < alpha
            delta = s.get("delta")
            better = None
            if significant and delta:
                a_wins = (delta > 0) == bool(higher.get(metric, True))
                better = pair.get("a") if a_wins else pair.get("b")
            rows.append({"a": pair.get("a"), "b": pair.get("b"), "metric": metric, "delta": delta,
                         "low": s.get("low"), "high": s.get("high"), "p_value": s.get("p_value"),
                         "p_adjusted": s.get("p_adjusted"), "significant": significant, "better": better,
                         "method": s.get("method"), "n": s.get("n", pair.get("n")),
                         "mde_accuracy": pair.get("mde_accuracy"), "reason": s.get("reason"),
                         "value_a": s.get("value_a"), "value_b": s.get("value_b")})
    return _frame(rows, columns)


def predictions_frame(results: dict[str, Any], rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per (model, example): ``model``, ``id``, ``gold``, ``pred``, ``status``, ``p_LABEL`` for each
    label in suite order, ``output``, ``error`` and ``flags`` (joined with ``;``)."""
    labels = [lab["name"] for lab in (results.get("suite") or {}).get("labels") or []]
    columns = ["model", "id", "gold", "pred", "status", *[f"p_{lab}" for lab in labels], "output", "error", "flags"]
    out = []
    for r in rows:
        probs = r.get("probs") or {}
        out.append({"model": r.get("model"), "id": r.get("id"), "gold": r.get("gold"), "pred": r.get("pred"),
                    "status": r.get("status"), **{f"p_{lab}": probs.get(lab) for lab in labels},
                    "output": r.get("output"), "error": r.get("error"),
                    "flags": ";".join(map(str, r.get("flags") or [])) or None})
    return _frame(out, columns)


def training_frame(results: dict[str, Any]) -> pd.DataFrame:
    """One row per (job, step) of every fine-tuning job's curves: ``job``, ``step`` and the curve columns."""
    rows: list[dict[str, Any]] = []
    columns = ["job", "step"]
    for job, info in (results.get("training") or {}).items():
        curves = (info or {}).get("curves") or {}
        names = [k for k in curves if k != "step"]
        columns += [k for k in names if k not in columns]
        for i, step in enumerate(curves.get("step") or []):
            rows.append({"job": job, "step": step, **{k: _at(curves[k], i) for k in names}})
    return _frame(rows, columns)


def _at(values: Any, i: int) -> Any:
    return values[i] if isinstance(values, list) and i < len(values) else None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas: a cell from dataset or model text that
    starts with ``= + - @`` (or a tab / carriage return) and is not a plain number gets a leading ``'``
    (OWASP's advice against CSV injection). Numbers and ordinary text are unchanged."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(_safe_cell)
    return out


def _safe_cell(value: Any) -> Any:
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
        return value  # "-1", "+0.5": a number, not a formula
    except ValueError:
        return "'" + value
