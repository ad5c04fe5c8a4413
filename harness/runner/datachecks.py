"""The data checks a run makes before it sends anything (:mod:`harness.validation`): errors stop the run unless
overridden; errors and warnings are recorded in results.json (``data_checks``, docs/results-format.md)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..plugins import Registry
from ..providers import ModelSpec
from ..suite import Suite
from ..validation import ERROR, WARNING, Validation, validate
from .setup import RunOptions


class DataErrors(InputError):
    """The held-out data has errors a run must not spend requests on (exit code 2)."""

    def __init__(self, v: Validation, file: str, line: int | None = None, field: str | None = None) -> None:
        self.validation = v
        shown = "; ".join(f"{f.code}: {f.message}" + (f" ({f.rows_text(5)})" if f.rows else "")
                          for f in v.errors[:3])
        more = f"; and {len(v.errors) - 3} more" if len(v.errors) > 3 else ""
        super().__init__(f"the data has {len(v.errors)} error(s), so nothing was sent — {shown}{more}. See "
                         "`harness validate` for every finding (and --fix OUT for a corrected copy), or run anyway "
                         "with --allow-data-errors", file=file, line=line, field=field)


def check_data(suite: Suite, registry: Registry, specs: Sequence[ModelSpec],
               options: RunOptions) -> tuple[dict[str, Any], Validation] | None:
    """Validate the suite for the run's models; raise :class:`DataErrors` on errors (unless
    ``options.allow_data_errors``); return what results.json records and the findings (None when
    ``options.check_data`` is off)."""
    if not options.check_data:
        return None
    v = validate(suite, list(specs), only=True, registry=registry)
    allowed = options.allow_data_errors
    if v.errors and not allowed:
        template = all(f.code.startswith("template-") for f in v.errors)  # named at suite.yaml's prompt.template
        raise DataErrors(v, str(suite.path), suite.line_of("prompt", "template") if template else None,
                         "prompt.template" if template else None)
    settings = suite.validate
    record = {"ok": v.ok, "summary": v.summary(), "overridden": bool(v.errors) and allowed,
            "settings": {"mde": settings.mde, "discordance": settings.discordance, "power": settings.power,
                         "alpha": settings.alpha},
            "findings": [_relative(f, suite) for f in v.to_json(severities=(ERROR, WARNING))["findings"]]}
    return record, v


def _relative(f: dict[str, Any], suite: Suite) -> dict[str, Any]:
    """A finding's file relative to the suite folder (results.json and the report do not show local paths)."""
    file = f.get("file")
    if file:
        try:
            f["file"] = Path(file).resolve().relative_to(suite.root.resolve()).as_posix()
        except ValueError:
            f["file"] = Path(file).name
    return f
