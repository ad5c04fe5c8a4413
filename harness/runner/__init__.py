"""Run orchestration (``harness run``): resolve the suite's models through the providers, score them with the
engine, compute metrics and comparisons, write the results. The one package that uses every layer below it.

``setup.py``: the options, the models and the engine of a run; ``pipeline.py``: the run itself;
``dryrun.py``: ``--dry-run``'s estimate of requests and cost."""

from .dryrun import estimate
from .pipeline import (
    ModelRun,
    RunOutcome,
    add_statistics,
    align,
    comparison_pairs_of,
    compute_model_metrics,
    engine_settings,
    failure_reasons,
    metric_data,
    prediction_rows,
    run,
    run_cost,
    selected_metrics,
)
from .setup import RunOptions, make_engine, merge_specs, resolve_models

__all__ = [
    "ModelRun", "RunOptions", "RunOutcome", "add_statistics", "align", "comparison_pairs_of",
    "compute_model_metrics", "engine_settings", "estimate", "failure_reasons", "make_engine", "merge_specs",
    "metric_data", "prediction_rows", "resolve_models", "run", "run_cost", "selected_metrics",
]
