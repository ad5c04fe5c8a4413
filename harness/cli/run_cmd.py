"""``harness run SUITE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from ..analysis.compare import CompareOptions
from ..engine import EngineOptions
from ..engine.progress import MODES
from ..engine.ratelimit import RateLimit
from ..errors import BudgetExhausted, ProviderError, UsageError
from ..runner import RunOptions, estimate, merge_specs
from ..runner import run as run_suite
from ..runner.gate import GateRequest, check_before_scoring, check_suite_rules
from ..suite import load_suite
from .common import PLUGIN_OPT, apply_options, cli_models, default_out, registry_from
from .gate_cmd import run_gate
from .summary import print_comparisons, print_summary

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
                                              "~/.cache/harness/cache.sqlite3)."),
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
    no_report: bool = typer.Option(False, "--no-report", help="Write results.json only."),
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
) -> None:
    """Score every held-out example with every model; write results.json and report.html."""
    if progress not in MODES:
        raise UsageError(f"--progress {progress!r}: choose one of {', '.join(MODES)}")
    if offline and (no_cache or refresh or batch):
        raise UsageError("--offline answers from the cache: it cannot be combined with --no-cache, --refresh "
                         "or --batch")
    console = Console(stderr=False)
    registry = registry_from(plugin)
    s = load_suite(suite)
    specs, opts = cli_models(model, option)

    merged = apply_options(merge_specs(s, specs, only), opts)
    if gate:
        check_suite_rules(s, registry)  # a bad rule is an error before anything is sent; models: before_scoring
    out_dir = out or default_out(s.name)
    engine = EngineOptions(concurrency=concurrency, max_attempts=max_attempts, timeout=timeout,
                           rate_limit=RateLimit(rpm, tpm), cache=not no_cache, cache_path=cache,
                           refresh=refresh, offline=offline, batch=batch, poll_interval=poll_interval,
                           max_cost=max_cost, progress=progress)  # a dry run shows none (runner.estimate)
    stats = None if no_stats or bootstrap == 0 else CompareOptions(alpha=alpha, n_resamples=bootstrap, seed=seed)
    options = RunOptions(out_dir=out_dir, models=merged, only_cli_models=True, metrics=metric, engine=engine,
                         prices_file=prices, console=console, stats=stats,
                         before_scoring=(lambda names, base: check_before_scoring(s, registry, names, base))
                         if gate else None)
    console.print(f"[bold]{s.name}[/]: {len(s.heldout)} held-out examples, labels {', '.join(s.labels)}")
    if dry_run:
        print_estimate(estimate(s, registry, options), console, batch=batch, max_cost=max_cost)
        return
    outcome = run_suite(s, registry, options,
                        on_model_done=lambda r: console.print(
                            f"  scored {r.model.name} ({r.seconds:.2f}s)"
                            + (f" — FAILED: {r.error}" if r.error else ""),
                            markup=False))
    print_summary(outcome.results, console)
    print_comparisons(outcome.results, console)
    print_usage(outcome.results, console)
    console.print(f"results: {outcome.results_path}")
    if not no_report:
        from harness_reports import write_report

        report = write_report(outcome.results_path)
        console.print(f"report:  {report}")
    if gate:
        for name, error in outcome.model_errors.items():
            console.print(f"model {name} failed: {error}", style="yellow", markup=False)
        out = outcome.results_path.parent
        raise typer.Exit(run_gate(GateRequest(outcome.results_path, suite=s), plugin, console,
                                  out / "gate.junit.xml", out / "gate.md", out / "gate.json"))
    if outcome.model_errors:
        names = ", ".join(outcome.model_errors)
        raise ProviderError(f"model(s) {names} failed (results for the others were written); "
                            f"first error: {next(iter(outcome.model_errors.values()))}")
    if outcome.budget_exhausted:
        raise BudgetExhausted(f"--max-cost {max_cost:g} USD reached: results were written for what was done; "
                              "the remaining examples are failed with reason \"budget exhausted\" (re-run "
                              "with a higher budget to finish: cached responses are not paid twice)")


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.4f}"


def print_estimate(rows: list[dict[str, Any]], console: Console, batch: bool = False,
                   max_cost: float | None = None) -> None:
    """The --dry-run table."""
    table = Table(title="dry run: estimated tokens and cost (nothing was sent)", title_justify="left")
    for col in ("model", "examples", "cached", "to send", "prompt tokens", "max completion tokens",
                "est. cost", "price"):
        table.add_column(col, justify="left" if col in ("model", "price") else "right",
                         overflow="fold", no_wrap=col != "price")
    for r in rows:
        table.add_row(r["model"], str(r["examples"]), str(r["cached"]), str(r["requests"]),
                      f"{r['prompt_tokens']:,}" + ("" if r["tokenizer"] else "*"), f"{r['completion_tokens']:,}",
                      _usd(r["usd"]), r["source"])
    known = [r["usd"] for r in rows if r["usd"] is not None]
    total = sum(known)
    if not console.is_terminal:
        console.width = max(console.width, 200)
    console.print(table)
    complete = len(known) == len(rows)
    console.print(f"estimated total: {_usd(total)}" + ("" if complete else " (some models have no price)")
                  + (" — Batch API prices" if batch else ""))
    if max_cost is not None and total > max_cost:
        console.print(f"[yellow]the estimate exceeds --max-cost {max_cost:g} USD: the run would stop early[/]")
    if not all(r["tokenizer"] for r in rows):
        console.print("* no tokenizer for this provider: a deliberately high guess (a token per 3 characters)",
                      style="dim")


def print_usage(results: dict[str, Any], console: Console) -> None:
    """One line per request model: requests sent, cached, tokens, cost; then failures by reason."""
    for m in results["models"]:
        u, c = m.get("usage"), m.get("cost")
        if u is not None and c is not None:
            cost = _usd(c.get("usd"))
            console.print(f"  {m['name']}: {u['requests']} requests, {u['cached']} cached, "
                          f"{u['prompt_tokens']:,}+{u['completion_tokens']:,} tokens, cost {cost}"
                          + (f" (spent now {_usd(c.get('spent_usd'))})" if c.get("usd") else ""), style="dim")
        for reason, n in list(m.get("failures", {}).items())[:3]:
            console.print(f"  {m['name']}: {n} failed — {reason}", style="yellow")
    total = results.get("cost") or {}
    if total.get("spent_usd"):
        console.print(f"  spent in this run: {_usd(total['spent_usd'])}", style="dim")
