"""``results.json``: the versioned, documented output of a run (see docs/results-format.md)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import jsonio
from ..errors import InputError

FORMAT = "harness.results"
SCHEMA_VERSION = 1
PREDICTIONS_FILE = "predictions.jsonl"


def atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a crash never leaves a half-written file. The file gets the
    permissions any new file gets (0644 under the usual umask 022), not a temporary file's 0600: results and
    reports are meant to be read by others (a CI artifact server, a web server, a colleague)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _create_temp(path: Path) -> tuple[int, str]:
    """A new, exclusive temporary file beside ``path``, created with mode 0666 so the umask decides."""
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666), str(tmp)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {path}")


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
