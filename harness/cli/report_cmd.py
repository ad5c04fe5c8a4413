"""``harness report RESULTS_JSON``: re-render a report without calling any model."""

from __future__ import annotations

from pathlib import Path

import typer


def report(
    results: Path = typer.Argument(..., help="A results.json (or the folder holding it)."),
    out: Path | None = typer.Option(None, "--out", help="HTML file to write (default: beside results.json)."),
) -> None:
    """Render report.html from results.json and its predictions file."""
    from .reporting import write_report

    path = write_report(results, out)
    typer.echo(f"report: {path}")
