"""``harness run``: score every held-out example with every model, align by id, compute metrics, write results."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..analysis.compare import CompareOptions, compare
from ..engine import Engine, declare_asyncio, paused_gc
from ..engine.options import BUDGET_EXHAUSTED
from ..errors import HarnessError, ProviderError
from ..examples import FAILED, INVALID, OK, Example, Prediction
from ..jsonio import json_safe
from ..metrics import MetricData, MetricValue, evaluate
from ..output import results as output
from ..output.results import FORMAT, PREDICTIONS_FILE, SCHEMA_VERSION, write_predictions, write_results
from ..plugins import Registry
from ..providers import Model, output_dir_scope
from ..suite import Suite
from .metricwarnings import collapsed_warnings
from .plan import Plan, plan_run
from .setup import RunOptions, make_engine
from .verdicts import add_verdict, write_side_files


@dataclass
class ModelRun:
    model: Model
    predictions: list[Prediction]
    seconds: float
    error: str | None = None  # a provider error that stopped this model (all examples failed)


@dataclass
class RunOutcome:
    results: dict[str, Any]
    results_path: Path
    model_errors: dict[str, str]
    budget_exhausted: bool = False
    #: models whose failed share is above ``RunOptions.max_failed``: name → (failed, n, most frequent reason)
    too_many_failed: dict[str, tuple[int, int, str]] = field(default_factory=dict)


def over_failed_limit(preds: Sequence[Prediction], max_failed: float | None) -> tuple[int, int, str] | None:
    """(failed, n, most frequent reason) when more than ``max_failed`` of a model's examples failed, else None.
    Examples left unsent by ``--max-cost`` do not count: an exhausted budget has its own exit code (5)."""
    if max_failed is None or not preds:
        return None
    reasons = {r: n for r, n in failure_reasons(preds).items() if r != BUDGET_EXHAUSTED}
    failed = sum(reasons.values())
    if failed / len(preds) <= max_failed:
        return None
    return failed, len(preds), next(iter(reasons))


async def _score(models: Sequence[Model], examples: Sequence[Example], engine: Engine,
                 on_done: Callable[[ModelRun], None] | None) -> list[ModelRun]:
    def failed(model: Model, reason: str, start: float) -> ModelRun:
        reason = engine.scrub(" ".join(reason.split()))
        return ModelRun(model, [Prediction.failed(ex.id, reason) for ex in examples], time.perf_counter() - start,
                        error=reason)

    async def one(model: Model) -> ModelRun:
        start = time.perf_counter()
        try:
            preds = await model.predict(examples, engine)
            run = ModelRun(model, preds, time.perf_counter() - start)
        except ProviderError as exc:
            run = failed(model, exc.one_line(), start)
        except HarnessError:  # a bad input or option (e.g. an unusable --cache): the whole run stops
            raise
        except Exception as exc:  # a provider bug stops that model only: the others' results are still written
            run = failed(model, f"internal error in provider: {type(exc).__name__}: {exc}", start)
        finally:
            await model.aclose()
        if on_done:
            on_done(run)
        return run

    try:
        return list(await asyncio.gather(*(one(m) for m in models)))
    finally:
        await engine.aclose()


def align(examples: Sequence[Example], run: ModelRun) -> list[Prediction]:
    """Predictions in example order; an example the model skipped counts as failed."""
    by_id: dict[str, Prediction] = {}
    for p in run.predictions:
        by_id[p.example_id] = p
    return [by_id.get(ex.id) or Prediction.failed(ex.id, "the model returned no prediction for this example")
            for ex in examples]


def metric_data(suite: Suite, examples: Sequence[Example], preds: Sequence[Prediction],
                options: dict[str, Any]) -> MetricData:
    index = {lab: i for i, lab in enumerate(suite.labels)}
    y_true = np.array([index[ex.label] for ex in examples], dtype=np.int64)
    y_pred = np.array([index.get(p.label, -1) if p.label is not None else -1 for p in preds], dtype=np.int64)
    proba = None
    if any(p.probs is not None for p in preds):
        proba = np.full((len(preds), len(suite.labels)), np.nan)
        for i, p in enumerate(preds):
            if p.probs is not None:
                proba[i] = [float(p.probs.get(lab, 0.0)) for lab in suite.labels]
    positive = index[suite.positive] if suite.positive is not None else None
    return MetricData(suite.labels, y_true, y_pred, proba, positive, options)


def compute_model_metrics(registry: Registry, names: Sequence[str], data: MetricData) -> dict[str, MetricValue]:
    return {name: evaluate(registry.metrics[name], data) for name in names}


def _counts(preds: Sequence[Prediction]) -> dict[str, int]:
    statuses = [p.status for p in preds]
    return {"n": len(preds), "ok": statuses.count(OK), "invalid": statuses.count(INVALID),
            "failed": statuses.count(FAILED), "flagged": sum(1 for p in preds if p.flags)}


def failure_reasons(preds: Sequence[Prediction]) -> dict[str, int]:
    """Why examples failed: reason → count, most frequent first (results.json ``models[i].failures``)."""
    counts: dict[str, int] = {}
    for p in preds:
        if p.error is not None:
            counts[p.error] = counts.get(p.error, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def run_cost(engine: Engine, entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The run's total cost (results.json ``cost``): models without a price count as unknown."""
    priced = [e["cost"] for e in entries if "cost" in e]
    known = [c for c in priced if c.get("usd") is not None]
    return {
        "usd": round(sum(c["usd"] for c in known), 6), "spent_usd": round(sum(c["spent_usd"] for c in known), 6),
        "currency": "USD", "complete": len(known) == len(priced) and all(c.get("complete", True) for c in known),
        "max_cost": engine.options.max_cost, "budget_exhausted": engine.budget_exhausted,
    }


def engine_settings(engine: Engine) -> dict[str, Any]:
    """How the requests were made (results.json ``engine``)."""
    o = engine.options
    return {"concurrency": o.concurrency, "max_attempts": o.max_attempts, "timeout": o.timeout,
            "cache": str(engine.cache_path) if engine.cache_path else None, "refresh": o.refresh,
            "offline": o.offline, "batch": o.batch, "notices": list(engine.notices)}


def prediction_rows(model: str, examples: Sequence[Example], preds: Sequence[Prediction]) -> list[dict[str, Any]]:
    rows = []
    for ex, p in zip(examples, preds):
        row: dict[str, Any] = {"model": model, "id": ex.id, "gold": ex.label, "pred": p.label,
                               "status": p.status, "probs": p.probs}
        if p.output is not None:
            row["output"] = p.output
        if p.error is not None:
            row["error"] = p.error
        if p.flags:
            row["flags"] = list(p.flags)
        if p.extra:
            row["extra"] = p.extra  # made JSON-safe when written (write_predictions)
        rows.append(row)
    return rows


def run(suite: Suite, registry: Registry, options: RunOptions,
        on_model_done: Callable[[ModelRun], None] | None = None,
        on_planned: Callable[[Plan], None] | None = None) -> RunOutcome:
    """Score, compute metrics and comparisons, write results. ``on_planned`` is called once every check passed
    (:func:`plan_run`), before anything is scored; ``on_model_done`` as each model finishes."""
    t0 = time.perf_counter()
    dataset = suite.heldout
    validation = suite.validation
    plan = plan_run(suite, registry, options)  # every check before anything is scored (--dry-run does the same)
    metric_names, models, training, baseline = plan.metric_names, plan.models, plan.training, plan.baseline
    extra_pairs = plan.pairs
    if on_planned is not None:
        on_planned(plan)
    t_load = time.perf_counter()

    engine = make_engine(suite, models, options, plan.prices)
    for text in plan.notices:
        engine.notice(text)
    runs: list[ModelRun] = []

    async def score() -> None:  # returns None: asyncio.run would repr a returned result when restoring SIGINT
        declare_asyncio()
        examples = dataset.examples + (validation.examples if validation is not None else ())
        runs.extend(await _score(models, examples, engine, on_model_done))

    with output_dir_scope(Path(options.out_dir)):  # what a model keeps for the run goes beside its results
        asyncio.run(score())
    t_pred = time.perf_counter()

    model_entries: list[dict[str, Any]] = []
    all_rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    too_many: dict[str, tuple[int, int, str]] = {}
    datas: dict[str, MetricData] = {}
    not_scored: dict[str, str] = {}
    observed: dict[tuple[str, str], MetricValue] = {}
    val_datas: dict[str, MetricData] | None = None
    out = Path(options.out_dir)
    output.make_output_dir(out)
    with paused_gc():  # thousands of predictions and rows that all stay alive
        aligned = [(r, align(dataset.examples, r)) for r in runs]
        for r, preds in aligned:
            all_rows.extend(prediction_rows(r.model.name, dataset.examples, preds))
        write_predictions(out / PREDICTIONS_FILE, all_rows)  # first: nothing scored is ever lost
        val_rows: list[dict[str, Any]] | None = None
        if validation is not None:
            val_rows, val_datas = [], {}
            for r, _ in aligned:
                vpreds = align(validation.examples, r)
                val_rows.extend(prediction_rows(r.model.name, validation.examples, vpreds))
                if not_scored_reason(vpreds) is None:
                    val_datas[r.model.name] = metric_data(suite, validation.examples, vpreds, suite.metric_options)
        side = write_side_files(out, dataset.examples, val_rows, validation)
        for r, preds in aligned:
            data = metric_data(suite, dataset.examples, preds, suite.metric_options)
            why = not_scored_reason(preds)
            if why is None:
                datas[r.model.name] = data
                with collapsed_warnings(engine.notice, f"while computing the metrics of {r.model.name}"):
                    values = compute_model_metrics(registry, metric_names, data)
                observed.update({(r.model.name, k): v for k, v in values.items()})
            else:  # a model that never answered has no metrics (not 0.0), and is left out of comparisons
                not_scored[r.model.name] = why
                values = {name: MetricValue(None, why) for name in metric_names}
            entry: dict[str, Any] = {
                "name": r.model.name, "spec": r.model.spec.spec, "provider": r.model.provider,
                "info": json_safe(r.model.describe()), "counts": _counts(preds),
                "metrics": {k: v.to_json() for k, v in values.items()},
                "timing": {"seconds": round(r.seconds, 4)},
                "failures": failure_reasons(preds),
            }
            usage = engine.usage.get(r.model.name)
            if usage is not None:
                entry["usage"] = usage.usage_json()
                entry["cost"] = usage.cost_json()
            if r.error:
                entry["error"] = r.error
                errors[r.model.name] = r.error
            else:
                over = over_failed_limit(preds, options.max_failed)
                if over is not None:
                    too_many[r.model.name] = over
            if r.model.name in not_scored:
                entry["scored"] = False
                entry["not_scored_reason"] = not_scored[r.model.name]
            model_entries.append(entry)
    t_metrics = time.perf_counter()

    results = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "harness_version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "suite": {
            "name": suite.name, "description": suite.description, "path": str(suite.path),
            "task": suite.task,
            "labels": [{"name": lab, "display": suite.display[lab]} for lab in suite.labels],
            "positive": suite.positive,
            "metric_options": json_safe(suite.metric_options),
            "selection": suite.selection.model_dump(), "thresholds": suite.thresholds.model_dump(),
            "dataset": {"path": output.suite_relative(dataset.path, suite.root), "format": dataset.format,
                        "sha256": dataset.sha256,
                        "n_examples": len(dataset)},
        },
        "baseline": baseline,
        "metrics": [dict(registry.metrics[n].describe(), plugin=registry.metric_plugin[n]) for n in metric_names],
        "models": model_entries,
        "training": json_safe(training),
        "predictions": {"path": PREDICTIONS_FILE, "rows": len(all_rows)},
        **side,
        "timings": {"load_seconds": round(t_load - t0, 4), "predict_seconds": round(t_pred - t_load, 4),
                    "metrics_seconds": round(t_metrics - t_pred, 4)},
        "cost": run_cost(engine, model_entries),
        "engine": {**engine_settings(engine), "max_failed": options.max_failed},
    }
    if plan.data_checks is not None:
        results["data_checks"] = plan.data_checks
    if options.only:  # the suite's own models were not run: its gate: names may be absent (harness gate)
        results["only"] = True
    results["timings"]["total_seconds"] = round(time.perf_counter() - t0, 4)
    results_path = out / "results.json"
    write_results(results_path, results)  # metrics are safe on disk before the statistics run
    if options.stats is not None and len(datas) >= 1:
        with collapsed_warnings(engine.notice, "while computing intervals and paired tests"):
            add_statistics(results, datas, [registry.metrics[n] for n in metric_names], baseline,
                           replace(options.stats, pairs=extra_pairs), observed, not_scored,
                           [r.model.name for r in runs])
            if val_datas is not None:
                val_datas = {k: v for k, v in val_datas.items() if k in datas}
            add_verdict(results, datas, [registry.metrics[n] for n in metric_names], options.stats, suite,
                        val_datas)
        results["engine"]["notices"] = list(engine.notices)
        results["timings"]["stats_seconds"] = round(time.perf_counter() - t_metrics, 4)
        results["timings"]["total_seconds"] = round(time.perf_counter() - t0, 4)
        write_results(results_path, results)
    return RunOutcome(results, results_path, errors, budget_exhausted=engine.budget_exhausted,
                      too_many_failed=too_many)


def add_statistics(results: dict[str, Any], datas: dict[str, MetricData], metrics: Sequence[Any], baseline: str,
                   options: CompareOptions, observed: dict[tuple[str, str], MetricValue],
                   not_scored: dict[str, str] | None = None, order: Sequence[str] | None = None) -> None:
    """Confidence intervals per model and paired comparisons (see harness.compare), into results."""
    intervals, comparisons = compare(datas, metrics, baseline, options, observed, not_scored, order)
    for entry in results["models"]:
        entry["intervals"] = intervals.get(entry["name"], {})
    results["comparisons"] = comparisons


def not_scored_reason(preds: Sequence[Prediction]) -> str | None:
    """Why a model is not scored: it answered no example (every request failed). None when it is scored;
    a model with some failures is scored, its failed examples counting as wrong for label metrics."""
    if not preds or any(p.status != FAILED for p in preds):
        return None
    top = next(iter(failure_reasons(preds)), "no reason recorded")
    return f"the model answered none of the {len(preds)} examples (failed: {top})"


__all__ = ["RunOptions", "RunOutcome", "run", "HarnessError"]
