"""Gate rules written down: the suite's ``gate:`` section, a ``--rules`` file, or the bundled defaults — all
validated against :class:`~harness.suite.schema.GateSection`, with the file and line of every field kept for
one-line errors."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from .load import Suite, schema_error
from .paths import shown_path
from .schema import GateSection
from .yamlpos import Located, load_yaml

DEFAULTS_NAME = "gate-defaults.yaml"


@dataclass(frozen=True)
class WrittenRules:
    """A validated gate section and where it was written: ``prefix`` is its path inside ``located``
    (``("gate",)`` in a suite, ``()`` in a rules file)."""

    section: GateSection
    located: Located | None
    prefix: tuple[Any, ...]
    source: str  # in words: "rules file X", "the gate: section of X", "the defaults"

    @property
    def file(self) -> Path | None:
        return self.located.file if self.located else None

    def line(self, *path: Any) -> int | None:
        return self.located.line(self.prefix + path) if self.located else None

    def field(self, *path: Any) -> str:
        return ".".join(str(p) for p in self.prefix + path)

    def error(self, message: str, *path: Any) -> InputError:
        return InputError(message, file=self.file, line=self.line(*path), field=self.field(*path) or None)

    def relative(self, path: str) -> Path:
        """A path written in the rules, relative to the file it was written in."""
        p = Path(path)
        return p if p.is_absolute() or self.located is None else self.located.file.parent / p


def load_rules_file(path: str | Path) -> WrittenRules:
    located = load_yaml(Path(path))
    if located.data is None:
        located.data = {}
    if not isinstance(located.data, dict):
        raise InputError("a rules file must be a YAML mapping (e.g. `rules: [...]`)", file=path, line=1)
    try:
        section = GateSection.model_validate(located.data)
    except ValidationError as exc:
        raise schema_error(exc, located) from None
    return WrittenRules(section, located, (), f"rules file {shown_path(path)}")


def suite_rules(suite: Suite) -> WrittenRules | None:
    """The suite's ``gate:`` section (already validated when the suite loaded), or None."""
    if suite.gate is None:
        return None
    return WrittenRules(suite.gate, suite.located, ("gate",), f"the gate: section of {shown_path(suite.path)}")


def default_rules() -> WrittenRules:
    """The documented defaults (harness/data/gate-defaults.yaml, shown in docs/ci.md)."""
    with resources.as_file(resources.files("harness") / "data" / DEFAULTS_NAME) as path:
        rules = load_rules_file(path)
    return WrittenRules(rules.section, rules.located, (), "the default rules")
