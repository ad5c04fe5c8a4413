"""``harness demo``: run every bundled demo suite (no key, no network) and write their reports."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ..suite import bundled_suite_names, load_suite
from .common import registry_from
from .summary import print_comparisons, print_summary


def demo(out: Path = typer.Option(Path("harness-demo"), "--out", help="Output folder.")) -> None:
    """Run the built-in demo suites: base vs fine-tuned vs checkpoints, trained on this machine in seconds."""
    from ..runner import RunOptions  # here: `harness --help` does not import what a run needs
    from ..runner import run as run_suite
    from .reporting import write_report

    console = Console()
    registry = registry_from(None)
    reports = []
    for name in bundled_suite_names():
        suite = load_suite(name)
        outcome = run_suite(suite, registry, RunOptions(out_dir=out / name))
        print_summary(outcome.results, console)
        print_comparisons(outcome.results, console)
        reports.append(write_report(outcome.results_path))
    console.print("\n[bold]Reports written:[/]")
    for r in reports:
        console.print(f"  {r.resolve()}")
    console.print("Open them in a browser (they are self-contained files).")
