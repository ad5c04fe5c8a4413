"""Rendering report.html from the CLI (``run``, ``demo``, ``report``): a broken template you provide
(``HARNESS_REPORT_TEMPLATES``) is bad input — exit 2 naming the template file and line — not an internal error."""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any

from ..errors import InputError

#: your report templates, looked up before the bundled ones (``harness_reports.render.ENV_VAR``)
TEMPLATES_ENV = "HARNESS_REPORT_TEMPLATES"


def write_report(results_path: Path | str, out: Path | None = None, **in_memory: Any) -> Path:
    import jinja2

    from harness_reports import render as render_module
    from harness_reports import write_report as render

    bundled = Path(render_module.__file__).resolve().parent
    try:
        return render(results_path, out, **in_memory)
    except jinja2.TemplateError as exc:
        file, line = _template_location(exc)
        if file is None or _inside(Path(file), bundled):
            raise  # the bundled templates failing is a bug (exit 1), not the user's input
        message = getattr(exc, "message", None) or str(exc)
        raise InputError(f"report template error: {message} (a template of HARNESS_REPORT_TEMPLATES)",
                         file=file, line=line) from None


def check_templates() -> None:
    """Before a run spends anything: every template in ``HARNESS_REPORT_TEMPLATES`` must at least parse (a typo
    there would otherwise surface only after every request was paid for)."""
    dirs = [d for d in os.environ.get(TEMPLATES_ENV, "").split(os.pathsep) if d]
    if not dirs:
        return
    import jinja2

    env = jinja2.Environment(autoescape=True)
    for folder in dirs:
        if not Path(folder).is_dir():
            raise InputError(f"{TEMPLATES_ENV} names a folder that does not exist", file=folder)
        for path in sorted(Path(folder).rglob("*")):
            if path.suffix not in (".j2", ".html", ".jinja", ".jinja2") or not path.is_file():
                continue
            try:
                env.parse(path.read_text(encoding="utf-8"), name=path.name, filename=str(path))
            except jinja2.TemplateSyntaxError as exc:
                raise InputError(f"report template error: {exc.message} (a template of {TEMPLATES_ENV})",
                                 file=path, line=exc.lineno) from None
            except UnicodeDecodeError as exc:
                raise InputError(f"report template is not UTF-8 text ({exc.reason})", file=path) from None


def _template_location(exc: Exception) -> tuple[str | None, int | None]:
    """The template file and line a jinja2 error happened in (a syntax error says so; a render error's traceback
    has frames named after the template, as jinja2 rewrites them)."""
    filename = getattr(exc, "filename", None)
    if filename:
        return str(filename), getattr(exc, "lineno", None)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".j2", ".html", ".jinja", ".jinja2")):
            return frame.filename, frame.lineno
    return None, None


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
    except (ValueError, OSError):
        return False
    return True
