"""``harness run``: score every held-out example with every model, align by id, compute metrics, write results."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..analysis.compare import CompareOptions, compare
from ..engine import Engine, declare_asyncio, paused_gc
from ..engine.options import BUDGET_EXHAUSTED
from ..errors import HarnessError, ProviderError
from ..examples import Example, Prediction, PredictionColumns
from ..jsonio import json_safe
from ..metrics import MetricData, MetricValue, evaluate
from ..output import results as output
from ..output.results import (
    FORMAT,
    PREDICTIONS_FILE,
    SCHEMA_VERSION,
    VALIDATION_PREDICTIONS_FILE,
    write_lines,
    write_results,
)
from ..plugins import Registry
from ..providers import Model, output_dir_scope
from ..suite import Suite
from . import scored
from .metricwarnings import collapsed_warnings
from .plan import Plan, plan_run
from .setup import RunOptions, make_engine
from .verdicts import add_verdict, write_side_files


@dataclass
class ModelRun:
    model: Model
    predictions: Sequence[Prediction]  # a list, or PredictionColumns
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
    #: the run's predictions in memory, for the report (None unless every model's are columns): the held-out
    #: split's (and the validation split's) examples and each model's columns in their order
    in_memory: InMemory | None = None


@dataclass
class InMemory:
    examples: Sequence[Example]
    columns: dict[str, PredictionColumns]
    validation_examples: Sequence[Example] = ()
    validation_columns: dict[str, PredictionColumns] | None = None


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
    return list(scored.split(run.predictions, examples))


def metric_data(suite: Suite, examples: Sequence[Example], preds: Sequence[Prediction],
                options: dict[str, Any]) -> MetricData:
    return scored.metric_data(suite, examples, preds, options)


def compute_model_metrics(registry: Registry, names: Sequence[str], data: MetricData,
                          notice: Callable[[str], None] | None = None, model: str = "") -> dict[str, MetricValue]:
    """Every metric of one model. A metric whose plugin raises is null with the reason (``notice`` says so)."""
    values = {name: evaluate(registry.metrics[name], data, registry.metric_plugin.get(name)) for name in names}
    for name, v in values.items():
        if v.failed and notice is not None:
            notice(f"metric {name!r} of {model or 'a model'} is null: {v.reason}")
    return values


def failure_reasons(preds: Sequence[Prediction]) -> dict[str, int]:
    """Why examples failed: reason → count, most frequent first (results.json ``models[i].failures``)."""
    return scored.failure_reasons(preds)


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


prediction_rows = scored.prediction_rows


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
    errors: dict[str, str] = {}
    too_many: dict[str, tuple[int, int, str]] = {}
    datas: dict[str, MetricData] = {}
    not_scored: dict[str, str] = {}
    observed: dict[tuple[str, str], MetricValue] = {}
    val_datas: dict[str, MetricData] | None = None
    out = Path(options.out_dir)
    output.make_output_dir(out)
    with paused_gc():  # thousands of predictions and rows that all stay alive
        aligned = [(r, scored.split(r.predictions, dataset.examples)) for r in runs]
        in_memory = None
        if aligned and all(isinstance(p, PredictionColumns) for _, p in aligned):
            in_memory = InMemory(dataset.examples, {r.model.name: p for r, p in aligned})  # type: ignore[misc]
        n_rows = sum(len(p) for _, p in aligned)
        write_lines(out / PREDICTIONS_FILE, (chunk for r, preds in aligned  # first: nothing scored is ever lost
                                             for chunk in scored.lines(r.model.name, dataset.examples, preds)))
        val_rows: int | None = None
        if validation is not None:
            val_rows, val_datas = 0, {}
            val_split = [(r, scored.split(r.predictions, validation.examples, len(dataset.examples)))
                         for r in runs]
            val_rows = sum(len(p) for _, p in val_split)
            if in_memory is not None and all(isinstance(p, PredictionColumns) for _, p in val_split):
                in_memory.validation_examples = validation.examples
                in_memory.validation_columns = {r.model.name: p for r, p in val_split}  # type: ignore[misc]
            elif in_memory is not None:
                in_memory = None
            write_lines(out / VALIDATION_PREDICTIONS_FILE, (
                chunk for r, vpreds in val_split for chunk in scored.lines(r.model.name, validation.examples,
                                                                           vpreds)))
            val_gold = scored.gold_index(suite, validation.examples)
            for r, vpreds in val_split:
                if not_scored_reason(vpreds) is None:
                    val_datas[r.model.name] = scored.metric_data(suite, validation.examples, vpreds,
                                                                 suite.metric_options, val_gold)
            del val_split
        side = write_side_files(out, dataset.examples, val_rows, validation)
        gold = scored.gold_index(suite, dataset.examples)
        for r, preds in aligned:
            data = scored.metric_data(suite, dataset.examples, preds, suite.metric_options, gold)
            why = not_scored_reason(preds)
            if why is None:
                datas[r.model.name] = data
                with collapsed_warnings(engine.notice, f"while computing the metrics of {r.model.name}"):
                    values = compute_model_metrics(registry, metric_names, data, engine.notice, r.model.name)
                observed.update({(r.model.name, k): v for k, v in values.items()})
            else:  # a model that never answered has no metrics (not 0.0), and is left out of comparisons
                not_scored[r.model.name] = why
                values = {name: MetricValue(None, why) for name in metric_names}
            entry: dict[str, Any] = {
                "name": r.model.name, "spec": r.model.spec.spec, "provider": r.model.provider,
                "info": json_safe(r.model.describe()), "counts": scored.counts(preds),
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
        "predictions": {"path": PREDICTIONS_FILE, "rows": n_rows},
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
                      too_many_failed=too_many, in_memory=in_memory)


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
    if not preds or not scored.all_failed(preds):
        return None
    top = next(iter(failure_reasons(preds)), "no reason recorded")
    return f"the model answered none of the {len(preds)} examples (failed: {top})"


__all__ = ["RunOptions", "RunOutcome", "run", "HarnessError"]
