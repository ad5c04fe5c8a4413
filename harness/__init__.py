"""harness: paired evaluation of base vs fine-tuned classifiers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from . import _compat
from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from .validation import Validation

hookimpl = pluggy.HookimplMarker("harness")

_compat.install()  # the 0.1 module paths (harness.results, harness.cache...) still import


def validate(suite: str | Path | Any, models: Sequence[Any] = (), *, only: bool = False,
             plugins: Sequence[str] = ()) -> Validation:
    """The data checks of ``harness validate`` for notebooks: a suite (folder, suite.yaml, bundled name or a loaded
    suite) and model specs (``"ft=openai:ft:gpt-4o-mini:org::abc"``) → a :class:`harness.validation.Validation`
    (``.findings``, ``.errors``, ``.warnings``, ``.ok``, ``.to_json()``). Imports the checks on first use."""
    from .validation import validate as run_checks

    return run_checks(suite, models, only=only, plugins=plugins)


__all__ = ["hookimpl", "__version__", "validate"]
