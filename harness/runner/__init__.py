"""Run orchestration (``harness run``): resolve the suite's models through the providers, score them with the
engine, compute metrics and comparisons, write the results. The one package that uses every layer below it."""

from .pipeline import (
    ModelRun,
    RunOptions,
    RunOutcome,
    add_statistics,
    align,
    comparison_pairs_of,
    compute_model_metrics,
    engine_settings,
    estimate,
    failure_reasons,
    make_engine,
    merge_specs,
    metric_data,
    prediction_rows,
    resolve_models,
    run,
    run_cost,
    selected_metrics,
)

__all__ = [
    "ModelRun", "RunOptions", "RunOutcome", "add_statistics", "align", "comparison_pairs_of",
    "compute_model_metrics", "engine_settings", "estimate", "failure_reasons", "make_engine", "merge_specs",
    "metric_data", "prediction_rows", "resolve_models", "run", "run_cost", "selected_metrics",
]
