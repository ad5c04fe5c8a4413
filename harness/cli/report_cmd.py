"""``harness report RESULTS_JSON``: re-render a report without calling any model."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import UsageError


def report(
    results: Path = typer.Argument(..., help="A results.json (or the folder holding it)."),
    out: Path | None = typer.Option(None, "--out", help="File to write (default: report.html beside results.json "
                                    "for html; standard output for md)."),
    format: str = typer.Option("html", "--format", help="html (the full report) or md (a GitHub-flavoured "
                               "summary for a pull request or $GITHUB_STEP_SUMMARY)."),
) -> None:
    """Render report.html (or a Markdown summary) from results.json and its predictions file."""
    if format not in ("html", "md"):
        raise UsageError(f"--format {format!r}: expected html or md")
    if format == "md":
        from harness_reports.markdown import write_markdown

        text = write_markdown(results, out)
        if out is None:
            typer.echo(text, nl=False)
        else:
            typer.echo(f"summary: {out}", err=True)
        return
    from .reporting import write_report

    path = write_report(results, out)
    typer.echo(f"report: {path}")
