"""Render results.json (+ predictions) into one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.results import atomic_write, load_predictions, load_results


def _env() -> Environment:
    return Environment(loader=PackageLoader("harness_reports", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True))


def render_html(results: dict[str, Any], predictions: list[dict[str, Any]]) -> str:
    return _env().get_template("report.html.j2").render(r=results, predictions=predictions)


def write_report(results_path: Path | str, out: Path | None = None) -> Path:
    results_path = Path(results_path)
    results = load_results(results_path)
    preds = load_predictions(results_path, results)
    base = results_path if results_path.is_dir() else results_path.parent
    out = out or base / "report.html"
    atomic_write(out, render_html(results, preds))
    return out
