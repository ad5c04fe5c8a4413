"""``harness export RESULTS``: results.json as CSV tables (metrics, comparisons, predictions, training)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import InputError


def export(
    results: Path = typer.Argument(..., help="A results.json (or the folder holding it)."),
    out: Path | None = typer.Option(None, "--out", help="Folder for the tables (default: beside results.json)."),
    sep: str = typer.Option("csv", "--format", help="csv or tsv."),
    raw: bool = typer.Option(False, "--raw", help="Do not guard text cells against spreadsheet formulas."),
) -> None:
    """Write metrics, comparisons, predictions and training tables as CSV (for spreadsheets and notebooks;
    in Python, harness.output.frames.load_frames gives the same tables as DataFrames)."""
    if sep not in ("csv", "tsv"):
        raise InputError(f"unknown format {sep!r} (csv or tsv)", field="--format")
    from ..output.frames import load_frames, spreadsheet_safe
    from ..output.results import atomic_write, check_output_dir

    frames = load_frames(results)
    base = Path(results) if Path(results).is_dir() else Path(results).parent
    folder = out or base
    check_output_dir(folder)
    for name, frame in frames.items():
        if name == "training" and frame.empty:
            continue
        table = frame if raw else spreadsheet_safe(frame)
        path = folder / f"{name}.{sep}"
        atomic_write(path, table.to_csv(index=False, sep="\t" if sep == "tsv" else ","))
        typer.echo(f"{name + ':':13s} {path} ({len(table)} rows)")
