"""Safe YAML loading that remembers the line of every key, for one-line error messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError

Path_ = tuple[Any, ...]


class Located:
    """Parsed YAML data plus ``line(path)`` → 1-based line of the key (or list item) at ``path``."""

    def __init__(self, data: Any, lines: dict[Path_, int], file: Path,
                 texts: dict[Path_, str] | None = None) -> None:
        self.data = data
        self.lines = lines
        self.file = file
        self.texts = texts or {}  # the source text of every scalar, by path (``010`` is not 8 there)

    def as_written(self, path: Path_, value: Any) -> Any:
        """A number at ``path`` as the text it was written with (YAML reads ``010`` as 8, ``1_000`` as 1000);
        anything else unchanged."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.texts.get(tuple(path), str(value))
        return value

    def line(self, path: Path_) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def error(self, message: str, path: Path_) -> InputError:
        return InputError(message, file=self.file, line=self.line(path),
                          field=".".join(str(p) for p in path) or None)


def _walk(node: yaml.Node, path: Path_, out: dict[Path_, int], texts: dict[Path_, str]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        texts[path] = node.value
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            out[path + (k,)] = key.start_mark.line + 1
            _walk(value, path + (k,), out, texts)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[path + (i,)] = item.start_mark.line + 1
            _walk(item, path + (i,), out, texts)


class SuiteLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2's booleans: only ``true``/``false`` (any case) are booleans, so labels
    and values such as ``yes``, ``no``, ``on``, ``off``, ``y``, ``n`` stay the strings they look like (YAML 1.1
    turned a binary task's ``labels: [yes, no]`` into ``[True, False]``)."""


SuiteLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
SuiteLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                  list("tTfF"))


def load_yaml(file: Path) -> Located:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", file=file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", file=file) from None
    try:
        node = yaml.compose(text, Loader=SuiteLoader)
        data = yaml.load(text, Loader=SuiteLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"invalid YAML: {problem}", file=file,
                         line=mark.line + 1 if mark else None) from None
    lines: dict[Path_, int] = {}
    texts: dict[Path_, str] = {}
    if node is not None:
        _walk(node, (), lines, texts)
    return Located(data, lines, file, texts)
