"""What an ``hf:`` / ``hf-checkpoints:`` spec names, shared by resolution (providers.py) and the offline facts
(facts.py): the folder a relative path means, the field errors name, the labels' spellings."""

from __future__ import annotations

from pathlib import Path

from harness.errors import UsageError
from harness.providers import ModelSpec

from ..label_scoring import SpellingClash, label_spellings
from .options import HFOptions

NO_BASE = "none"


def _field(spec: ModelSpec) -> str:
    return f"models.{spec.name}"


def _path(spec: ModelSpec) -> Path:
    """The folder a spec names: a relative path is relative to ``spec.relative_to`` (the suite folder for a path
    written in suite.yaml, the current directory for ``--model``), never looked up anywhere else first."""
    p = Path(spec.argument.strip()).expanduser()
    if not p.is_absolute() and spec.relative_to is not None:
        p = spec.relative_to / p
    return p


def _origin(spec: ModelSpec) -> str | None:
    return spec.origin or None


def _spellings(spec: ModelSpec, labels: tuple[str, ...], opts: HFOptions) -> dict[str, list[str]]:
    try:
        return label_spellings(labels, opts.case_insensitive)
    except SpellingClash as exc:
        a, b = exc.labels
        raise UsageError(f"{spec.origin or 'model'} {spec.name!r}: labels {a!r} and {b!r} are both spelled "
                         f"{exc.spelling!r} (case is ignored): rename one or drop case_insensitive") from None
