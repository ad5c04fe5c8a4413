"""Run orchestration (``harness run``): resolve the suite's models through the providers, score them with the
engine, compute metrics and comparisons, write the results. The one package that uses every layer below it.

``setup.py``: the options, the models and the engine of a run; ``pipeline.py``: the run itself;
``plan.py``: every check made before anything is sent, shared by the run and ``--dry-run``;
``dryrun.py``: ``--dry-run``'s estimate of requests and cost."""

from .dryrun import estimate
from .pipeline import (
    ModelRun,
    RunOutcome,
    add_statistics,
    align,
    compute_model_metrics,
    engine_settings,
    failure_reasons,
    metric_data,
    prediction_rows,
    run,
    run_cost,
)
from .plan import Plan, comparison_pairs_of, plan_run, selected_metrics
from .setup import RunOptions, make_engine, merge_specs, resolve_models

__all__ = [
    "ModelRun", "Plan", "RunOptions", "RunOutcome", "add_statistics", "align", "comparison_pairs_of",
    "compute_model_metrics", "engine_settings", "estimate", "failure_reasons", "make_engine", "merge_specs",
    "metric_data", "plan_run", "prediction_rows", "resolve_models", "run", "run_cost", "selected_metrics",
]
