"""Reading suite.yaml: harness's strict YAML rules (:mod:`harness.yamlload`: bounded aliases and nesting,
duplicate keys refused, YAML 1.2 booleans) plus the line of every key, for one-line error messages."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..textfile import read_text
from ..yamlload import Located, StrictLoader, load_located

__all__ = ["Located", "SuiteLoader", "load_yaml"]

#: The loader suite.yaml is read with (kept under its old name).
SuiteLoader = StrictLoader


def load_yaml(file: Path) -> Located:
    try:
        text = read_text(file, "yaml")
    except FileNotFoundError:
        raise InputError("file not found", file=file) from None
    return load_located(text, file)
