"""``harness run SUITE``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from ..engine import EngineOptions
from ..engine.cache import resolve_cache_path
from ..engine.progress import MODES, resolve_mode
from ..engine.ratelimit import RateLimit
from ..errors import BudgetExhausted, ProviderError, UsageError
from ..suite import Suite, load_suite
from .common import (
    PLUGIN_OPT,
    QUIET_OPT,
    VERBOSE_OPT,
    apply_options,
    cli_models,
    default_out,
    parse_share,
    registry_from,
)
from .gate_cmd import run_gate
from .reporting import check_templates, write_report
from .summary import print_comparisons, print_summary
from .usage import print_estimate, print_usage, too_many_failed_message
from .validate_cmd import print_findings

if TYPE_CHECKING:  # the runner loads with the command: `harness --help` does not import numpy
    from ..runner import Plan

#: harness.runner.setup.DEFAULT_MAX_FAILED (tests/test_cli_startup.py checks they agree)
DEFAULT_MAX_FAILED = 0.1
_SCALE = "Requests at scale"
_STATS = "Statistics"


def run(
    suite: str = typer.Argument(..., help="Suite folder, suite.yaml path, or the name of a bundled suite."),
    model: list[str] | None = typer.Option(None, "--model", "-m",
                                              help="NAME=PROVIDER:ARGUMENT; replaces or adds a model. Repeatable."),
    option: list[str] | None = typer.Option(None, "--option", "-o",
                                               help="MODEL.KEY=VALUE provider option. Repeatable."),
    only: bool = typer.Option(False, "--only", help="Run only the --model models, not the suite's."),
    metric: list[str] | None = typer.Option(None, "--metric", help="Compute only these metrics. Repeatable."),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default: harness-runs/SUITE)."),
    concurrency: int = typer.Option(32, "--concurrency", min=1, rich_help_panel=_SCALE,
                                    help="Requests in flight across all models (shared round-robin)."),
    rpm: float | None = typer.Option(None, "--rpm", min=0.001, rich_help_panel=_SCALE,
                                        help="Requests per minute per target (overrides the suite and provider)."),
    tpm: float | None = typer.Option(None, "--tpm", min=1, rich_help_panel=_SCALE,
                                        help="Tokens per minute per target (overrides the suite and provider)."),
    max_attempts: int = typer.Option(5, "--max-attempts", min=1, rich_help_panel=_SCALE,
                                     help="Attempts per request before the example is recorded as failed."),
    timeout: float = typer.Option(120.0, "--timeout", min=0.001, rich_help_panel=_SCALE,
                                  help="Seconds per attempt before it is abandoned and retried."),
    cache: Path | None = typer.Option(None, "--cache", rich_help_panel=_SCALE,
                                         help="Response cache file (default: $HARNESS_CACHE_DIR/cache.sqlite3 or "
                                              "the platform's user cache folder: ~/.cache/harness on Linux)."),
    no_cache: bool = typer.Option(False, "--no-cache", rich_help_panel=_SCALE,
                                  help="Neither read nor write the response cache."),
    refresh: bool = typer.Option(False, "--refresh", rich_help_panel=_SCALE,
                                 help="Ignore cached responses (new ones are still cached)."),
    offline: bool = typer.Option(False, "--offline", rich_help_panel=_SCALE,
                                 help="Use cached responses only; send nothing (uncached examples fail)."),
    dry_run: bool = typer.Option(False, "--dry-run", rich_help_panel=_SCALE,
                                 help="Estimate tokens and cost, call nothing, write nothing."),
    max_cost: float | None = typer.Option(None, "--max-cost", min=0, rich_help_panel=_SCALE,
                                             help="Budget in USD: stop before exceeding it (exit code 5)."),
    prices: Path | None = typer.Option(None, "--prices", rich_help_panel=_SCALE,
                                          help="YAML of prices (USD per 1M input/output tokens) over the suite's "
                                               "and the bundled ones."),
    batch: bool = typer.Option(False, "--batch", rich_help_panel=_SCALE,
                               help="Send uncached requests through the Batch API (half price, slower)."),
    poll_interval: float = typer.Option(30.0, "--poll-interval", min=0.0, rich_help_panel=_SCALE,
                                        help="Seconds between Batch API status checks."),
    progress: str = typer.Option("auto", "--progress", rich_help_panel=_SCALE,
                                 help=f"Progress display: {', '.join(MODES)} (auto: bars on a terminal, "
                                      "lines in logs)."),
    max_failed: str = typer.Option(f"{DEFAULT_MAX_FAILED:.0%}", "--max-failed", rich_help_panel=_SCALE,
                                   help="Exit 3 when more than this share of a model's examples failed (0.1 or "
                                        "10%; 100% never); results are written either way."),
    no_report: bool = typer.Option(False, "--no-report", help="Write results.json only."),
    allow_external_data: bool = typer.Option(False, "--allow-external-data",
                                             help="Let the suite's data paths point outside its folder."),
    allow_data_errors: bool = typer.Option(False, "--allow-data-errors",
                                           help="Run even when the data checks (harness validate) find errors; "
                                                "they are printed and recorded in results.json."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0, rich_help_panel=_STATS,
                                  help="Bootstrap resamples for intervals and paired tests."),
    alpha: float = typer.Option(0.05, "--alpha", min=0.0001, max=0.5, rich_help_panel=_STATS,
                                help="Significance level: intervals are (1 - alpha)."),
    seed: int = typer.Option(0, "--seed", rich_help_panel=_STATS, help="Seed of the bootstrap resamples."),
    no_stats: bool = typer.Option(False, "--no-stats", rich_help_panel=_STATS,
                                  help="Skip confidence intervals and paired comparisons."),
    plugin: list[str] | None = PLUGIN_OPT,
    gate: bool = typer.Option(False, "--gate", help="Gate the run with the suite's `gate:` rules (else the "
                              "defaults): write OUT/gate.json, gate.md, gate.junit.xml; the exit code is the "
                              "gate's."),
    quiet: bool = QUIET_OPT,
    verbose: bool = VERBOSE_OPT,
) -> None:
    """Score every held-out example with every model; write results.json and report.html."""
    from ..analysis.compare import CompareOptions
    from ..runner import RunOptions, estimate, merge_specs
    from ..runner import run as run_suite

    if progress not in MODES:
        raise UsageError(f"--progress {progress!r}: choose one of {', '.join(MODES)}")
    if offline and (no_cache or refresh or batch):
        raise UsageError("--offline answers from the cache: it cannot be combined with --no-cache, --refresh "
                         "or --batch")
    failed_limit = parse_share(max_failed, "--max-failed")
    if quiet and verbose:
        raise UsageError("--quiet and --verbose contradict each other: choose one")
    console, log = Console(), Console(stderr=True)  # stdout: the tables (pipe them); stderr: everything else
    if quiet:
        progress = "off"
    if not no_report:
        check_templates()  # a typo in your report templates is caught before anything is paid for
    registry = registry_from(plugin)
    s = load_suite(suite, allow_external_data=allow_external_data)
    specs, opts = cli_models(model, option)

    merged = apply_options(merge_specs(s, specs, only), opts)
    gated: list[tuple[Suite, list[str]]] = [(s, [])]
    if gate:  # the gate's modules load only for a gated run
        from ..runner.gate import GateRequest, check_before_scoring, check_suite_rules, suite_gate_for_run

        check_suite_rules(s, registry)  # a bad rule is an error before anything is sent; models: before_scoring

    def gate_before_scoring(names: list[str], baseline: str) -> None:
        """The gate: section's models are the run's (left out with a note under --only), and everything else the
        gate checks without results holds — before any example is sent."""
        gated[0] = suite_gate_for_run(s, names, only)
        check_before_scoring(gated[0][0], registry, names, baseline)

    out_dir = out or default_out(s.name)
    engine = EngineOptions(concurrency=concurrency, max_attempts=max_attempts, timeout=timeout,
                           rate_limit=RateLimit(rpm, tpm), cache=not no_cache, cache_path=cache,
                           refresh=refresh, offline=offline, batch=batch, poll_interval=poll_interval,
                           max_cost=max_cost, progress=progress)  # a dry run shows none (runner.estimate)
    stats = None if no_stats or bootstrap == 0 else CompareOptions(alpha=alpha, n_resamples=bootstrap, seed=seed)
    checked: list[Any] = []  # the data checks' findings, printed once the run's own checks passed (planned)
    options = RunOptions(out_dir=out_dir, models=merged, only_cli_models=True, only=only, metrics=metric,
                         engine=engine,
                         prices_file=prices, console=log, stats=stats, max_failed=failed_limit,
                         allow_data_errors=allow_data_errors, on_validation=checked.append,
                         before_scoring=gate_before_scoring if gate else None,
                         outputs=(*(() if no_report else ("report.html",)),
                                  *(("gate.junit.xml", "gate.md", "gate.json") if gate else ())))

    # status lines go with the progress display (stderr; none under --quiet, --progress off or pytest), and only
    # once every check passed: bad input is one line on stderr. The data checks' warnings (and errors overridden
    # with --allow-data-errors) are printed whatever the display: --quiet leaves stderr to warnings and errors
    chatty = verbose or resolve_mode(progress) != "off"

    def say(text: str, style: str | None = None) -> None:
        if chatty:
            log.print(text, style=style, markup=False, highlight=False, soft_wrap=True)  # one line each in a log

    def planned(plan: Plan) -> None:
        say(f"{s.name}: {len(s.heldout)} held-out examples, labels {', '.join(s.labels)}; "
            f"models {', '.join(m.name for m in plan.models)}", style="bold")
        for findings in checked:
            print_findings(findings, log)
        if verbose:
            say(f"  out: {out_dir}; cache: {'off' if no_cache else resolve_cache_path(cache)}; concurrency "
                f"{concurrency}, max attempts {max_attempts}, timeout {timeout:g}s, max failed {failed_limit:.0%}",
                style="dim")

    if dry_run:
        print_estimate(estimate(s, registry, options, on_planned=planned), console, batch=batch,
                       max_cost=max_cost)
        return
    outcome = run_suite(s, registry, options, on_planned=planned,
                        on_model_done=lambda r: say(f"  {r.model.name}: {'stopped' if r.error else 'scored'} "
                                                    f"({r.seconds:.2f}s)"))
    print_summary(outcome.results, console)
    print_comparisons(outcome.results, console)
    print_usage(outcome.results, console, verbose=verbose)
    if verbose:
        timings = outcome.results.get("timings", {})
        say("  timings: " + ", ".join(f"{k.removesuffix('_seconds')} {v:.2f}s" for k, v in timings.items()),
            style="dim")
    console.print(f"results: {outcome.results_path}", markup=False, highlight=False)
    if not no_report:
        mem = outcome.in_memory
        report = write_report(outcome.results_path) if mem is None else write_report(
            outcome.results_path, examples=mem.examples, columns=mem.columns,
            validation_examples=mem.validation_examples, validation_columns=mem.validation_columns)
        console.print(f"report:  {report}", markup=False, highlight=False)
    if gate:
        for name, error in outcome.model_errors.items():
            log.print(f"model {name} failed: {error}", style="yellow", markup=False)
        out = outcome.results_path.parent
        gate_suite, gate_notes = gated[0]
        raise typer.Exit(run_gate(GateRequest(outcome.results_path, suite=gate_suite, notes=tuple(gate_notes)),
                                  plugin, console, out / "gate.junit.xml", out / "gate.md", out / "gate.json"))
    if outcome.model_errors:
        names = ", ".join(outcome.model_errors)
        raise ProviderError(f"model(s) {names} failed (results for the others were written); "
                            f"first error: {next(iter(outcome.model_errors.values()))}")
    if outcome.too_many_failed:
        raise ProviderError(too_many_failed_message(outcome.too_many_failed, failed_limit, outcome.results))
    if outcome.budget_exhausted:
        raise BudgetExhausted(f"--max-cost {max_cost:g} USD reached: results were written for what was done; "
                              "the remaining examples are failed with reason \"budget exhausted\" (re-run "
                              "with a higher budget to finish: cached responses are not paid twice)")
