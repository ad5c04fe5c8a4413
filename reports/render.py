"""Render results.json (+ predictions) into one self-contained HTML file.

Templates live in ``harness_reports/templates`` (``report.html.j2`` includes the ``_*.html.j2`` partials and
inlines ``report.css``). A directory given as ``templates=`` or in the ``HARNESS_REPORT_TEMPLATES``
environment variable (``os.pathsep``-separated) is searched first, so one file there overrides the built-in
template of the same name. Autoescaping is always on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined
from markupsafe import Markup

from harness.errors import InputError
from harness.output.results import atomic_write, load_predictions, load_results

from . import analysis, sections
from .charts import model_styles
from .tables import flag_counts, group_by_model
from .training import training_section
from .validation import validation_notices

ENV_VAR = "HARNESS_REPORT_TEMPLATES"


def _count(x: Any) -> str:
    v = sections.num(x)
    if v is None:
        return "—"
    return f"{int(v):,}" if v == int(v) else f"{v:,.2f}"


def _seconds(x: Any) -> str:
    v = sections.num(x)
    if v is None:
        return "—"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


@lru_cache(maxsize=8)
def _env(dirs: tuple[str, ...]) -> Environment:
    loaders = [FileSystemLoader(list(dirs))] if dirs else []
    env = Environment(loader=ChoiceLoader([*loaders, PackageLoader("harness_reports", "templates")]),
                      autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=sections.fmt, count=_count, seconds=_seconds)
    return env


def _template_dirs(extra: Iterable[str | Path] | None = None) -> tuple[str, ...]:
    dirs = [str(p) for p in extra or ()]
    dirs += [p for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    return tuple(dirs)


def build_context(results: dict[str, Any], predictions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Everything the templates show, as plain data (text unescaped: the templates escape it)."""
    head = sections.header(results)
    names = sections.model_names(results)
    styles = model_styles(names, head["baseline"])
    labels = head["labels"]
    groups = group_by_model(predictions or [], names)
    have_preds = any(groups.values())
    flags = {m: flag_counts(rows) for m, rows in groups.items()}
    table = sections.metrics_table(results, styles)
    comp = sections.comparisons(results)
    binary = head["task"] == "binary" or (head["task"] == "" and len(labels) == 2)
    ctx: dict[str, Any] = {
        "head": head, "styles": styles, "table": table, "comparisons": comp,
        "glance": sections.glance(results, table, comp),
        "outputs": sections.outputs_table(results, styles, flags),
        "usage": sections.usage_table(results), "meta": sections.metadata(results),
        "training": training_section(results),
        "curves": None, "confusion": [], "per_class": [], "calibration": None,
    }
    if have_preds and labels:
        pos = head["positive"]["name"] if head["positive"] else None
        if binary and len(labels) == 2:
            ctx["curves"] = analysis.curves_section(groups, labels, pos, styles)
        ctx["confusion"] = analysis.confusion_section(groups, labels, styles)
        ctx["per_class"] = analysis.per_class_section(groups, labels)
        ctx["calibration"] = analysis.calibration_section(results, groups, labels, styles)
    return ctx


def render_html(results: dict[str, Any], predictions: list[dict[str, Any]], *,
                templates: Iterable[str | Path] | None = None, notices: Sequence[str] = ()) -> str:
    """The report page for ``results`` (a loaded results.json) and its prediction rows."""
    env = _env(_template_dirs(templates))
    css = env.loader.get_source(env, "report.css")[0]  # type: ignore[union-attr]
    ctx = build_context(results, predictions)
    return env.get_template("report.html.j2").render(
        **ctx, css=Markup(css), notices=[*notices, *validation_notices(results)])


def write_report(results_path: Path | str, out: Path | None = None) -> Path:
    results_path = Path(results_path)
    results = load_results(results_path)
    notices: list[str] = []
    try:
        preds = load_predictions(results_path, results)
    except InputError as exc:  # still render what results.json has, and say what is missing
        preds = []
        notices.append(f"Predictions could not be read ({exc.one_line()}); the sections derived from them "
                       "(curves, confusion matrices, per-class scores, calibration) are left out.")
    base = results_path if results_path.is_dir() else results_path.parent
    out = Path(out) if out else base / "report.html"
    atomic_write(out, render_html(results, preds, notices=notices))
    return out
