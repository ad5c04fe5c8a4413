"""``results.json``: the versioned, documented output of a run (see docs/results-format.md)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import jsonio
from ..errors import InputError

FORMAT = "harness.results"
SCHEMA_VERSION = 2  # 2: issue 9 (per-pair n and values, nulls with reasons, not-scored models); see docs
PREDICTIONS_FILE = "predictions.jsonl"
EXAMPLES_FILE = "examples.jsonl"  # id and text of each held-out example (for the report's examples)
VALIDATION_PREDICTIONS_FILE = "predictions.validation.jsonl"  # the validation split's predictions


def atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a crash never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _row_json(row: dict[str, Any]) -> str:
    try:  # orjson; values it does not know (provider objects) become strings
        return jsonio.dumps(row, sort_keys=True)
    except (TypeError, ValueError):  # e.g. a non-string dict key of an odd type, or a circular reference
        from ..jsonio import json_safe

        return json.dumps(json_safe(row), ensure_ascii=False, sort_keys=True)


def write_predictions(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    atomic_write(path, "".join(_row_json(r) + "\n" for r in rows))


def write_results(path: Path, results: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def load_results(path: Path) -> dict[str, Any]:
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON ({exc.msg})", file=path, line=exc.lineno) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"not a harness results file (expected \"format\": \"{FORMAT}\")", file=path,
                         field="format")
    version = data.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise InputError(f"unsupported schema_version {version!r} (this harness reads up to {SCHEMA_VERSION}; "
                         "upgrade harness)", file=path, field="schema_version")
    return data


def load_predictions(results_path: Path, results: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-example rows a results file points at (path relative to the results file)."""
    rel = (results.get("predictions") or {}).get("path")
    if not rel:
        return []
    path = Path(results_path)
    base = path if path.is_dir() else path.parent
    file = base / rel
    rows = []
    try:
        with file.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        rows.append(jsonio.loads(line))
                    except json.JSONDecodeError as exc:
                        raise InputError(f"malformed JSON ({exc.msg})", file=file, line=lineno) from None
    except FileNotFoundError:
        raise InputError("predictions file named by results.json not found", file=file) from None
    return rows


def load_side_rows(results_path: Path, results: dict[str, Any], *keys: str) -> list[dict[str, Any]]:
    """The JSONL rows of a side file that results.json names at ``results[keys...]["path"]`` (the example
    texts: ``"examples"``; the validation predictions: ``"validation", "predictions"``), relative to the
    results file and never outside its folder. Missing or unreadable: an InputError naming the file."""
    node: Any = results
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    rel = node.get("path") if isinstance(node, dict) else None
    if not isinstance(rel, str) or not rel:
        return []
    path = Path(results_path)
    base = (path if path.is_dir() else path.parent).resolve()
    file = (base / rel).resolve()
    if base not in file.parents:
        raise InputError("a side file must be in the results folder", file=file)
    rows = []
    try:
        with file.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        row = jsonio.loads(line)
                    except json.JSONDecodeError as exc:
                        raise InputError(f"malformed JSON ({exc.msg})", file=file, line=lineno) from None
                    if isinstance(row, dict):
                        rows.append(row)
    except FileNotFoundError:
        raise InputError("file named by results.json not found", file=file) from None
    return rows
