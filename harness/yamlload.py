"""The one way harness reads YAML (suite.yaml, ``--prices`` files, ``--option`` values): PyYAML's ``SafeLoader``
with four rules added, so a small file cannot cost a large run and a typo cannot pass silently.

* **Aliases are bounded.** ``&anchor`` / ``*alias`` (and ``<<: *merge``) work, but all the aliases of a document
  together may add at most :data:`MAX_ALIAS_NODES` nodes once expanded, and an alias may not point into the
  node that contains it (a recursive structure). A 500-byte "billion laughs" file is refused in
  milliseconds instead of expanding to gigabytes.
* **Nesting is bounded**: at most :data:`MAX_DEPTH` levels, aliases followed (no ``RecursionError``).
* **A duplicate key is an error** naming both lines (``positive: hockey`` then ``positive: baseball`` silently
  meant ``baseball``). Keys are compared as the values they load as (``1`` and ``01`` are the same key), and
  the explicit keys of a mapping may still override the keys it merges in with ``<<``.
* **YAML 1.2 booleans**: only ``true``/``false`` (any case) are booleans, so ``yes``, ``no``, ``on``, ``off``,
  ``y`` and ``n`` stay the strings they look like (YAML 1.1 turned ``labels: [yes, no]`` into booleans).

Errors are :class:`yaml.YAMLError` subclasses with a ``problem_mark`` (the line) and, for the ones added here,
``path``: the keys leading to the offending node, for a one-line message naming the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import InputError

#: Nodes that all the aliases of one document may add when expanded.
MAX_ALIAS_NODES = 10_000
#: Nesting levels, aliases followed.
MAX_DEPTH = 64

Path_ = tuple[Any, ...]
_MERGE = "tag:yaml.org,2002:merge"


class BoundedAliasError(ComposerError):
    """An alias would expand the document beyond the bound, or points into itself, or nesting is too deep."""

    def __init__(self, problem: str, mark: Any, path: Path_) -> None:
        super().__init__(None, None, problem, mark)
        self.path = path


class DuplicateKeyError(ConstructorError):
    """A mapping names the same key twice."""

    def __init__(self, problem: str, mark: Any, path: Path_) -> None:
        super().__init__(None, None, problem, mark)
        self.path = path


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` plus bounded aliases and nesting, duplicate keys refused and YAML 1.2 booleans."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._path: list[Any] = []
        self._open_anchors: set[str] = set()
        self._alias_nodes = 0
        self._measure: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, depth), aliases expanded
        self._mapping_paths: dict[int, Path_] = {}

    # --- composing: the node graph -----------------------------------------------------------------

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)  # an undefined alias is the composer's own error
            if target is not None:
                self._check_alias(event, parent, index, target)
            return super().compose_node(parent, index)
        if parent is not None:
            self._path.append(index.value if isinstance(index, ScalarNode) else
                              index if isinstance(index, int) else "<key>")
        if len(self._path) >= MAX_DEPTH:
            raise BoundedAliasError(f"nesting deeper than {MAX_DEPTH} levels", event.start_mark, tuple(self._path))
        anchor = event.anchor
        if anchor is not None:
            self._open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            if anchor is not None:
                self._open_anchors.discard(anchor)
            if parent is not None:
                self._path.pop()

    def compose_mapping_node(self, anchor: str | None) -> Node:
        node = super().compose_mapping_node(anchor)
        self._mapping_paths[id(node)] = tuple(self._path)
        return node

    def _check_alias(self, event: Any, parent: Node | None, index: Any, target: Node) -> None:
        where = tuple(self._path) + ((index.value if isinstance(index, ScalarNode) else index,)
                                     if parent is not None and index is not None else ())
        if event.anchor in self._open_anchors:
            raise BoundedAliasError(f"alias *{event.anchor} refers to a node that contains it (a recursive "
                                    "structure)", event.start_mark, where)
        nodes, depth = self._size(target)
        self._alias_nodes += nodes
        if self._alias_nodes > MAX_ALIAS_NODES:
            raise BoundedAliasError(f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes (at *{event.anchor}): "
                                    "write the values out, or use fewer aliases", event.start_mark, where)
        if len(where) + depth >= MAX_DEPTH:
            raise BoundedAliasError(f"alias *{event.anchor} nests deeper than {MAX_DEPTH} levels",
                                    event.start_mark, where)

    def _size(self, node: Node) -> tuple[int, int]:
        """(nodes, depth) of a finished node with its aliases expanded; memoised, so linear in the graph."""
        key = id(node)
        if key not in self._measure:
            if isinstance(node, SequenceNode):
                parts = [self._size(n) for n in node.value]
            elif isinstance(node, MappingNode):
                parts = [self._size(n) for pair in node.value for n in pair]
            else:
                parts = []
            self._measure[key] = (1 + sum(p[0] for p in parts), 1 + max((p[1] for p in parts), default=0))
        return self._measure[key]

    # --- constructing: Python values ---------------------------------------------------------------

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the constructor's own error follows
                    continue
                line = key_node.start_mark.line + 1
                if first is not None:
                    path = self._mapping_paths.get(id(node), ()) + (key,)
                    raise DuplicateKeyError(f"duplicate key {key!r} (first on line {first}, again on line {line})",
                                            key_node.start_mark, path)
                seen[key] = line
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
StrictLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))


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


def compose_and_load(text: str) -> tuple[Node | None, Any]:
    """The document's node graph (for line numbers) and its value, from one parse."""
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
        return node, data
    finally:
        loader.dispose()


def load(text: str) -> Any:
    """The value of a YAML document, under the rules above (raises :class:`yaml.YAMLError`)."""
    return compose_and_load(text)[1]


def load_located(text: str, file: str | Path) -> Located:
    """The value of a YAML document and the line of every key in it; a YAML error is an :class:`InputError`
    naming ``file``, the line and, where it can, the field."""
    try:
        node, data = compose_and_load(text)
    except yaml.YAMLError as exc:
        problem, line, field = describe_error(exc)
        prefix = "" if isinstance(exc, (DuplicateKeyError, BoundedAliasError)) else "invalid YAML: "
        raise InputError(prefix + problem, file=file, line=line, field=field) from None
    lines: dict[Path_, int] = {}
    texts: dict[Path_, str] = {}
    if node is not None:
        _walk(node, (), lines, texts)
    return Located(data, lines, Path(file), texts)


def describe_error(exc: yaml.YAMLError) -> tuple[str, int | None, str | None]:
    """(problem, 1-based line or None, dotted field or None) of a YAML error, for :class:`InputError`."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context:
        problem = f"{context}" + (f" (line {context_mark.line + 1})" if context_mark is not None else "") + \
            f": {problem}"
    path = getattr(exc, "path", None)
    field = None
    if path:
        field = ".".join(str(p) for p in path[:8]) + (".…" if len(path) > 8 else "")
    return problem, (mark.line + 1 if mark is not None else None), field
