"""HTML report rendering (installed as ``harness_reports``)."""

from .render import render_html, write_report

__all__ = ["render_html", "write_report"]
