"""Render results.json (+ predictions) into one self-contained HTML file.

Templates live in ``harness_reports/templates`` (``report.html.j2`` includes the ``_*.html.j2`` partials and
inlines ``report.css``). A directory given as ``templates=`` or in the ``HARNESS_REPORT_TEMPLATES``
environment variable (``os.pathsep``-separated) is searched first, so one file there overrides the built-in
template of the same name. Autoescaping is always on.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemBytecodeCache, FileSystemLoader, PackageLoader, StrictUndefined
from markupsafe import Markup

from harness.errors import InputError
from harness.examples import Example, PredictionColumns
from harness.output.results import atomic_write, load_predictions, load_results, load_side_rows, predictions_path

from . import analysis, calibration, deltas, examples, modelrows, sections, sweep, thresholds, verdict
from .charts import model_styles
from .modelrows import ModelRows
from .sections import d
from .tables import flag_counts
from .training import training_section
from .validation import validation_notices

ENV_VAR = "HARNESS_REPORT_TEMPLATES"
TEXT_LIMIT = 4000  # the characters of an example's text examples.jsonl keeps (harness.runner.verdicts)


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


def _bytecode_cache() -> FileSystemBytecodeCache | None:
    """Compiled templates kept between runs (jinja2's own per-user cache folder, private to the user: it refuses
    a folder anyone else could write to): compiling the report's templates takes ~0.2 s, loading them ~5 ms.
    Keyed by each template's file and source, so an edited template is compiled afresh. None where no such
    folder can be had (the templates are then compiled every time)."""
    try:
        return FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


@lru_cache(maxsize=8)
def _env(dirs: tuple[str, ...]) -> Environment:
    loaders = [FileSystemLoader(list(dirs))] if dirs else []
    env = Environment(loader=ChoiceLoader([*loaders, PackageLoader("harness_reports", "templates")]),
                      autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      bytecode_cache=_bytecode_cache())
    env.filters.update(num=sections.fmt, count=_count, seconds=_seconds)
    return env


def _template_dirs(extra: Iterable[str | Path] | None = None) -> tuple[str, ...]:
    dirs = [str(p) for p in extra or ()]
    dirs += [p for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    return tuple(dirs)


def _pairs(comp: dict[str, Any] | None) -> list[tuple[str, str]]:
    return [(p["a"], p["b"]) for p in (comp or {}).get("pairs", [])]


Predictions = Sequence[dict[str, Any]] | Mapping[str, ModelRows]


def _groups(predictions: Predictions | None, names: Sequence[str], labels: Sequence[str]) -> dict[str, ModelRows]:
    if isinstance(predictions, Mapping):
        empty = ModelRows.from_rows([], labels)
        return {n: predictions.get(n, empty) for n in names}
    return modelrows.group(predictions or [], names, labels)


def build_context(results: dict[str, Any], predictions: Predictions,
                  texts: Mapping[str, str] | None = None,
                  validation: Predictions | None = None) -> dict[str, Any]:
    """Everything the templates show, as plain data (text unescaped: the templates escape it). ``predictions``:
    the rows of predictions.jsonl, or each model's :class:`~harness_reports.modelrows.ModelRows`; ``texts``
    maps example ids to their text (examples.jsonl); ``validation`` holds the validation split's predictions,
    when the run has one (thresholds and temperatures are then picked on it)."""
    head = sections.header(results)
    names = sections.model_names(results)
    styles = model_styles(names, head["baseline"])
    labels = head["labels"]
    label_names = [lab["name"] for lab in labels]
    groups = _groups(predictions, names, label_names)
    have_preds = any(groups.values())
    flags = {m: flag_counts(rows) for m, rows in groups.items()}
    table = sections.metrics_table(results, styles)
    comp = sections.comparisons(results)
    binary = head["task"] == "binary" or (head["task"] == "" and len(labels) == 2)
    v = verdict.verdict_section(results, styles)
    glance = sections.glance(results, table, comp)
    if v is not None:  # the verdict replaces the point-estimate "best" line
        glance = [g for g in glance if g["kind"] != "best"]
    val_groups = _groups(validation, names, label_names) if validation else None
    ctx: dict[str, Any] = {
        "head": head, "styles": styles, "table": table, "comparisons": comp, "verdict": v,
        "deltas": deltas.delta_matrix(results, comp, styles), "sweep": sweep.sweep_section(results, styles),
        "examples": None, "temperature": None,
        "glance": glance,
        "outputs": sections.outputs_table(results, styles, flags),
        "usage": sections.usage_table(results), "meta": sections.metadata(results),
        "training": training_section(results),
        "curves": None, "confusion": [], "per_class": [], "calibration": None,
    }
    if have_preds and labels:
        pos = head["positive"]["name"] if head["positive"] else None
        if binary and len(labels) == 2:
            ctx["curves"] = analysis.curves_section(groups, labels, pos, styles, thresholds.targets_of(results),
                                                    val_groups)
        ctx["confusion"] = analysis.confusion_section(groups, labels, styles)
        ctx["per_class"] = analysis.per_class_section(groups, labels)
        cal = analysis.calibration_section(results, groups, labels, styles)
        names_ = [lab["name"] for lab in labels]
        cal["bin_tables"] = [{"model": m, "style": styles.get(m), "bins": calibration.bin_table(rows, names_,
                                                                                               cal["bins"])}
                             for m, rows in groups.items() if rows and m not in {s["model"] for s in cal["skipped"]}]
        ctx["calibration"] = cal
        ctx["temperature"] = calibration.temperature_section(groups, names_, cal["bins"], styles, val_groups)
        cand = d(results.get("verdict")).get("candidate")
        ctx["examples"] = examples.examples_section(groups, labels, texts or {}, _pairs(comp),
                                                    cand if isinstance(cand, str) else None, head["baseline"], styles)
    return ctx


def script() -> tuple[Markup, str]:
    """The page's one inline script (the examples table's filters) and its CSP hash source."""
    env = _env(())
    js = env.loader.get_source(env, "report.js")[0]  # type: ignore[union-attr]
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    return Markup(js), f"'sha256-{digest}'"


def render_html(results: dict[str, Any], predictions: Predictions, *,
                templates: Iterable[str | Path] | None = None, notices: Sequence[str] = (),
                texts: Mapping[str, str] | None = None, validation: Predictions | None = None) -> str:
    """The report page for ``results`` (a loaded results.json) and its predictions (see :func:`build_context`)."""
    env = _env(_template_dirs(templates))
    css = env.loader.get_source(env, "report.css")[0]  # type: ignore[union-attr]
    ctx = build_context(results, predictions, texts, validation)
    js, js_hash = script()
    return env.get_template("report.html.j2").render(
        **ctx, css=Markup(css), js=js, js_hash=js_hash, notices=[*notices, *validation_notices(results)])


def side_files(results_path: Path, results: dict[str, Any], notices: list[str]
               ) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Example texts and validation predictions named by results.json; a notice instead when unreadable."""
    texts: dict[str, str] = {}
    try:
        for row in load_side_rows(results_path, results, "examples"):
            if isinstance(row.get("id"), str) and isinstance(row.get("text"), str):
                texts[row["id"]] = row["text"]
    except InputError as exc:
        notices.append(f"Example texts could not be read ({exc.one_line()}); examples show their ids only.")
    try:
        validation = load_side_rows(results_path, results, "validation", "predictions")
    except InputError as exc:
        validation = []
        notices.append(f"Validation predictions could not be read ({exc.one_line()}); thresholds and "
                       "temperatures are picked on the held-out set.")
    return texts, validation


def in_memory(labels: Sequence[str], examples: Sequence[Example], columns: Mapping[str, PredictionColumns]
              ) -> dict[str, ModelRows]:
    gold = [ex.label for ex in examples]
    return {m: ModelRows.from_columns(c, gold, labels) for m, c in columns.items()}


def write_report(results_path: Path | str, out: Path | None = None, *, examples: Sequence[Example] = (),
                 columns: Mapping[str, PredictionColumns] | None = None,
                 validation_examples: Sequence[Example] = (),
                 validation_columns: Mapping[str, PredictionColumns] | None = None) -> Path:
    """Render ``report.html`` beside ``results_path`` (or to ``out``). ``columns`` (with their ``examples``, and
    the validation split's) are the run's predictions in memory — what its predictions.jsonl, examples.jsonl and
    predictions.validation.jsonl hold — so a run's report does not read them back; else they are read."""
    results_path = Path(results_path)
    results = load_results(results_path)
    notices: list[str] = []
    if columns is not None:
        labels = [lab["name"] for lab in sections.header(results)["labels"]]
        texts = {ex.id: ex.text[:TEXT_LIMIT] for ex in examples}
        validation = in_memory(labels, validation_examples, validation_columns) if validation_columns else None
        page = render_html(results, in_memory(labels, examples, columns), notices=notices, texts=texts,
                           validation=validation)
        base = results_path if results_path.is_dir() else results_path.parent
        out = Path(out) if out else base / "report.html"
        atomic_write(out, page)
        return out
    file = predictions_path(results_path, results)
    if file is not None and not file.is_file():  # still render what results.json has, and say what is missing
        preds = []
        notices.append(f"Predictions could not be read (predictions file {file.name} not found); the sections "
                       "derived from them (curves, confusion matrices, per-class scores, calibration) are left out.")
    else:  # a file that is there is read in full and checked: a bad row is an error naming its line
        preds = load_predictions(results_path, results)
    texts, validation = side_files(results_path, results, notices)
    base = results_path if results_path.is_dir() else results_path.parent
    out = Path(out) if out else base / "report.html"
    atomic_write(out, render_html(results, preds, notices=notices, texts=texts, validation=validation))
    return out
