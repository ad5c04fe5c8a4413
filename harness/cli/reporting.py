"""Rendering report.html from the CLI (``run``, ``demo``, ``report``): a broken template you provide
(``HARNESS_REPORT_TEMPLATES``) is bad input — exit 2 naming the template file and line — not an internal error."""

from __future__ import annotations

import traceback
from pathlib import Path

from ..errors import InputError


def write_report(results_path: Path | str, out: Path | None = None) -> Path:
    import jinja2

    from harness_reports import render as render_module
    from harness_reports import write_report as render

    bundled = Path(render_module.__file__).resolve().parent
    try:
        return render(results_path, out)
    except jinja2.TemplateError as exc:
        file, line = _template_location(exc)
        if file is None or _inside(Path(file), bundled):
            raise  # the bundled templates failing is a bug (exit 1), not the user's input
        message = getattr(exc, "message", None) or str(exc)
        raise InputError(f"report template error: {message} (a template of HARNESS_REPORT_TEMPLATES)",
                         file=file, line=line) from None


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
