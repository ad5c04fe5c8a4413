"""``harness run SUITE``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ..engine import EngineOptions
from ..errors import ProviderError
from ..runner import RunOptions
from ..runner import run as run_suite
from ..suite import load_suite
from .common import PLUGIN_OPT, apply_options, cli_models, default_out, registry_from
from .summary import print_summary


def run(
    suite: str = typer.Argument(..., help="Suite folder, suite.yaml path, or the name of a bundled suite."),
    model: Optional[list[str]] = typer.Option(None, "--model", "-m",
                                              help="NAME=PROVIDER:ARGUMENT; replaces or adds a model. Repeatable."),
    option: Optional[list[str]] = typer.Option(None, "--option", "-o",
                                               help="MODEL.KEY=VALUE provider option. Repeatable."),
    only: bool = typer.Option(False, "--only", help="Run only the --model models, not the suite's."),
    metric: Optional[list[str]] = typer.Option(None, "--metric", help="Compute only these metrics. Repeatable."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder [default: harness-runs/SUITE]."),
    concurrency: int = typer.Option(16, "--concurrency", min=1, help="Requests in flight across all models."),
    no_report: bool = typer.Option(False, "--no-report", help="Write results.json only."),
    plugin: Optional[list[str]] = PLUGIN_OPT,
) -> None:
    """Score every held-out example with every model; write results.json and report.html."""
    console = Console(stderr=False)
    registry = registry_from(plugin)
    s = load_suite(suite)
    specs, opts = cli_models(model, option)
    from ..runner import merge_specs

    merged = apply_options(merge_specs(s, specs, only), opts)
    out_dir = out or default_out(s.name)
    console.print(f"[bold]{s.name}[/]: {len(s.heldout)} held-out examples, labels {', '.join(s.labels)}")
    outcome = run_suite(s, registry, RunOptions(out_dir=out_dir, models=merged, only_cli_models=True,
                                                metrics=metric, engine=EngineOptions(concurrency=concurrency)),
                        on_model_done=lambda r: console.print(
                            f"  scored {r.model.name} ({r.seconds:.2f}s)" + (f" — FAILED: {r.error}" if r.error else "")))
    print_summary(outcome.results, console)
    console.print(f"results: {outcome.results_path}")
    if not no_report:
        from harness_reports import write_report

        report = write_report(outcome.results_path)
        console.print(f"report:  {report}")
    if outcome.model_errors:
        names = ", ".join(outcome.model_errors)
        raise ProviderError(f"model(s) {names} failed (results for the others were written); "
                            f"first error: {next(iter(outcome.model_errors.values()))}")
