"""``harness run``: score every held-out example with every model, align by id, compute metrics, write results."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from . import __version__
from .engine import Engine, EngineOptions, json_safe
from .errors import HarnessError, InputError, ProviderError, UsageError
from .examples import FAILED, INVALID, OK, Example, Prediction
from .metrics import MetricData, MetricValue, evaluate
from .plugins import Registry
from .providers import Model, ModelSpec
from .results import FORMAT, PREDICTIONS_FILE, SCHEMA_VERSION, write_predictions, write_results
from .suite import Suite


@dataclass
class RunOptions:
    out_dir: Path
    models: list[ModelSpec] = field(default_factory=list)
    only_cli_models: bool = False
    metrics: list[str] | None = None
    engine: EngineOptions = field(default_factory=EngineOptions)


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


def merge_specs(suite: Suite, cli: Sequence[ModelSpec], only_cli: bool = False) -> list[ModelSpec]:
    """The suite's models, with ``--model NAME=...`` replacing a model of the same name or adding one."""
    specs = {} if only_cli else {s.name: s for s in suite.models}
    for s in cli:
        specs[s.name] = s
    if not specs:
        raise UsageError(f"no models to run: the suite {suite.path} names none; add --model NAME=PROVIDER:ARGUMENT")
    return list(specs.values())


def resolve_models(suite: Suite, registry: Registry, specs: Sequence[ModelSpec]
                   ) -> tuple[list[Model], dict[str, Any]]:
    models: list[Model] = []
    training: dict[str, Any] = {}
    for spec in specs:
        if spec.provider not in registry.providers:
            known = ", ".join(sorted(registry.providers))
            raise UsageError(f"{spec.origin}: model {spec.name!r}: unknown provider {spec.provider!r} "
                             f"(known: {known})")
        resolved = registry.providers[spec.provider].resolve(spec, suite)
        models.extend(resolved.models)
        if resolved.training:
            training[spec.name] = resolved.training
    names = [m.name for m in models]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"two models are named {', '.join(dupes)}: give each --model a distinct NAME")
    return models, training


async def _score(models: Sequence[Model], examples: Sequence[Example], engine: Engine,
                 on_done: Callable[[ModelRun], None] | None) -> list[ModelRun]:
    async def one(model: Model) -> ModelRun:
        start = time.perf_counter()
        try:
            preds = await model.predict(examples, engine)
            run = ModelRun(model, preds, time.perf_counter() - start)
        except ProviderError as exc:
            reason = exc.one_line()
            run = ModelRun(model, [Prediction.failed(ex.id, reason) for ex in examples],
                           time.perf_counter() - start, error=reason)
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


def selected_metrics(suite: Suite, registry: Registry, override: list[str] | None) -> list[str]:
    if override:
        for name in override:
            registry.metric(name)
        return list(override)
    if suite.metric_names is None:
        return list(registry.metrics)
    for i, name in enumerate(suite.metric_names):
        if name not in registry.metrics:
            raise InputError(f"unknown metric {name!r} (known: {', '.join(sorted(registry.metrics))})",
                             file=suite.path, line=suite.line_of("metrics", i), field=f"metrics[{i}]")
    return list(suite.metric_names)


def compute_model_metrics(registry: Registry, names: Sequence[str], data: MetricData) -> dict[str, MetricValue]:
    return {name: evaluate(registry.metrics[name], data) for name in names}


def _counts(preds: Sequence[Prediction]) -> dict[str, int]:
    statuses = [p.status for p in preds]
    return {"n": len(preds), "ok": statuses.count(OK), "invalid": statuses.count(INVALID),
            "failed": statuses.count(FAILED), "flagged": sum(1 for p in preds if p.flags)}


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
            row["extra"] = json_safe(p.extra)
        rows.append(row)
    return rows


def run(suite: Suite, registry: Registry, options: RunOptions,
        on_model_done: Callable[[ModelRun], None] | None = None) -> RunOutcome:
    t0 = time.perf_counter()
    dataset = suite.heldout
    metric_names = selected_metrics(suite, registry, options.metrics)
    specs = merge_specs(suite, options.models, options.only_cli_models)
    models, training = resolve_models(suite, registry, specs)
    baseline = suite.baseline if suite.baseline is not None else models[0].name
    if baseline not in {m.name for m in models}:
        baseline = models[0].name
    t_load = time.perf_counter()

    engine = Engine(options.engine)
    runs = asyncio.run(_score(models, dataset.examples, engine, on_model_done))
    t_pred = time.perf_counter()

    model_entries: list[dict[str, Any]] = []
    all_rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for r in runs:
        preds = align(dataset.examples, r)
        data = metric_data(suite, dataset.examples, preds, suite.metric_options)
        values = compute_model_metrics(registry, metric_names, data)
        entry: dict[str, Any] = {
            "name": r.model.name, "spec": r.model.spec.spec, "provider": r.model.provider,
            "info": json_safe(r.model.describe()), "counts": _counts(preds),
            "metrics": {k: v.to_json() for k, v in values.items()},
            "timing": {"seconds": round(r.seconds, 4)},
        }
        if r.error:
            entry["error"] = r.error
            errors[r.model.name] = r.error
        model_entries.append(entry)
        all_rows.extend(prediction_rows(r.model.name, dataset.examples, preds))
    t_metrics = time.perf_counter()

    out = Path(options.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_predictions(out / PREDICTIONS_FILE, all_rows)
    results = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "harness_version": __version__,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "suite": {
            "name": suite.name, "description": suite.description, "path": str(suite.path),
            "task": suite.task,
            "labels": [{"name": lab, "display": suite.display[lab]} for lab in suite.labels],
            "positive": suite.positive,
            "metric_options": json_safe(suite.metric_options),
            "dataset": {"path": str(dataset.path), "format": dataset.format, "sha256": dataset.sha256,
                        "n_examples": len(dataset)},
        },
        "baseline": baseline,
        "metrics": [dict(registry.metrics[n].describe(), plugin=registry.metric_plugin[n]) for n in metric_names],
        "models": model_entries,
        "training": json_safe(training),
        "predictions": {"path": PREDICTIONS_FILE, "rows": len(all_rows)},
        "timings": {"load_seconds": round(t_load - t0, 4), "predict_seconds": round(t_pred - t_load, 4),
                    "metrics_seconds": round(t_metrics - t_pred, 4)},
    }
    results["timings"]["total_seconds"] = round(time.perf_counter() - t0, 4)
    results_path = out / "results.json"
    write_results(results_path, results)
    return RunOutcome(results, results_path, errors)


__all__ = ["RunOptions", "RunOutcome", "run", "HarnessError"]
