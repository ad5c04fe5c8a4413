"""``results.json``: the versioned, documented output of a run (see docs/results-format.md)."""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .. import jsonio
from ..errors import InputError
from ..textfile import lines, read_text
from .validate import check_prediction_row, check_results, line_of

FORMAT = "harness.results"
SCHEMA_VERSION = 2  # 2: issue 9 (per-pair n and values, nulls with reasons, not-scored models); see docs
PREDICTIONS_FILE = "predictions.jsonl"
EXAMPLES_FILE = "examples.jsonl"  # id and text of each held-out example (for the report's examples)
VALIDATION_PREDICTIONS_FILE = "predictions.validation.jsonl"  # the validation split's predictions


class OutputError(InputError):
    """An output cannot be written: a folder that is a file or not writable, a read-only or full disk. Exit code 2:
    the environment's problem, not a bug, and the fix is the user's (another ``--out``, free space)."""


def _cannot_write(path: Path, exc: OSError, field: str | None = None) -> OutputError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(f"cannot write ({reason}): the disk is full; free some space and run the same command "
                           "again (the responses already received are in the response cache, unless --no-cache "
                           "was given)", file=path, field=field)
    return OutputError(f"cannot write ({reason})", file=path, field=field)


#: The files every run writes in its output folder (besides what ``check_output_dir``'s ``files`` adds).
RUN_FILES = ("results.json", PREDICTIONS_FILE, EXAMPLES_FILE)


def check_output_dir(out: Path, field: str = "--out", files: Sequence[str] = ()) -> None:
    """Refuse, before anything is scored, an output folder that could not be written: a file, a folder under a
    file, one that is not writable (read-only mount, permissions), or one where a file the run writes
    (:data:`RUN_FILES` and ``files``, e.g. ``report.html`` or the gate's files; names relative to ``out``)
    cannot be: a folder of that name, or a file where its folder should be. Leaves nothing behind."""
    out = Path(out)
    try:
        if out.exists() and not out.is_dir():
            raise OutputError("is a file, not a folder", file=out, field=field)
        existing = out
        while not existing.exists():
            if existing.parent == existing:
                break
            existing = existing.parent
        if not existing.is_dir():
            raise OutputError(f"{existing} is a file, so the output folder cannot be created", file=out,
                              field=field)
        for name in dict.fromkeys((*RUN_FILES, *files)):
            target = out / name
            if target.is_dir():
                raise OutputError("is a folder, so it cannot be written", file=target, field=field)
            for parent in list(target.relative_to(out).parents)[:-1]:  # e.g. a file where gates/ should be
                if (out / parent).exists() and not (out / parent).is_dir():
                    raise OutputError(f"is a file, so {name} cannot be written in it", file=out / parent,
                                      field=field)
    except OSError as exc:  # a name too long, a folder that cannot be searched
        raise _cannot_write(out, exc, field) from None
    except ValueError:
        raise OutputError("not a usable path: it contains a NUL character", file=out, field=field) from None
    try:  # try it: permissions, ACLs and read-only mounts all answer the same way
        before = os.stat(existing)
        probe = tempfile.mkdtemp(dir=existing, prefix=".harness-write-check-")
        os.rmdir(probe)
    except OSError as exc:
        raise _cannot_write(out, exc, field) from None
    try:  # and leave no trace, not even the folder's modification time
        os.utime(existing, ns=(before.st_atime_ns, before.st_mtime_ns))
    except OSError:
        pass


def make_output_dir(out: Path) -> None:
    try:
        Path(out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(Path(out), exc, "--out") from None


def atomic_write(path: Path, text: str | Iterable[str]) -> None:
    """Write via a temporary file and rename, so a crash never leaves a half-written file. The file gets the
    permissions any new file gets (0644 under the usual umask 022), not a temporary file's 0600: results and
    reports are meant to be read by others (a CI artifact server, a web server, a colleague). A failure to write
    (a full disk, a read-only folder) is an :class:`OutputError`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temp(path)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            if isinstance(text, str):
                fh.write(text)
            else:  # pieces (a large file written as it is made)
                for piece in text:
                    fh.write(piece)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from None
        raise


def suite_relative(path: Path, root: Path) -> str:
    """``path`` as results name it: relative to the suite folder (results are shared: no folder of this machine
    in them; a data file outside the suite, allowed with ``--allow-external-data``, gets ``../``)."""
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:  # another drive (Windows): only the name
        return Path(path).name


def _create_temp(path: Path) -> tuple[int, str]:
    """A new, exclusive temporary file beside ``path``, created with mode 0666 so the umask decides."""
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666), str(tmp)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {path}")


def row_json(row: dict[str, Any]) -> str:
    try:  # orjson; values it does not know (provider objects) become strings
        return jsonio.dumps(row, sort_keys=True)
    except (TypeError, ValueError):  # e.g. a non-string dict key of an odd type, or a circular reference
        from ..jsonio import json_safe

        return json.dumps(json_safe(row), ensure_ascii=False, sort_keys=True)


def write_predictions(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    atomic_write(path, "".join(row_json(r) + "\n" for r in rows))


_row_json = row_json


def write_lines(path: Path, chunks: Iterable[str]) -> None:
    """A JSONL file from pieces of lines, written as they are made (atomically, as every output)."""
    atomic_write(path, chunks)


def write_results(path: Path, results: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def load_results(path: Path) -> dict[str, Any]:
    """A results.json (or the folder holding it), checked: a value a reader could not use is an
    :class:`InputError` naming the file, the line and the field."""
    path = Path(path)
    if _is_dir(path):
        path = path / "results.json"
    try:
        text = read_text(path, "json")
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON ({exc.msg})", file=path, line=exc.lineno) from None
    except RecursionError:
        raise InputError("malformed JSON (nested too deeply)", file=path, line=_deep_line(text)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"not a harness results file (expected \"format\": \"{FORMAT}\")", file=path,
                         line=line_of(text, ("format",)) if isinstance(data, dict) else 1, field="format")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > SCHEMA_VERSION:
        raise InputError(f"unsupported schema_version {version!r} (this harness reads up to {SCHEMA_VERSION}; "
                         "upgrade harness)", file=path, line=line_of(text, ("schema_version",)),
                         field="schema_version")
    check_results(data, text, path)
    return data


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):  # a name too long: reading it says so
        return False


def predictions_path(results_path: Path, results: dict[str, Any]) -> Path | None:
    """The predictions file a results file names (``predictions.path``, relative to the results file and
    inside its folder), or None when it names none."""
    rel = (results.get("predictions") or {}).get("path")
    if not rel:
        return None
    path = Path(results_path)
    base = path if path.is_dir() else path.parent
    file = base / rel
    try:
        inside = not Path(rel).is_absolute() and file.resolve().is_relative_to(base.resolve())
    except (OSError, ValueError):  # a name too long, a NUL character
        raise InputError("not a usable path", file=path / "results.json" if path.is_dir() else path,
                         field="predictions.path") from None
    if not inside:
        raise InputError(f"{rel!r} is outside the results folder: the predictions file must be beside results.json",
                         file=path / "results.json" if path.is_dir() else path, field="predictions.path")
    return file


def load_predictions(results_path: Path, results: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-example rows a results file points at, each checked (:func:`check_prediction_row`)."""
    file = predictions_path(results_path, results)
    if file is None:
        return []
    try:
        text = read_text(file, "jsonl")
    except FileNotFoundError:
        raise InputError("predictions file named by results.json not found", file=file) from None
    rows = []
    for lineno, line in lines(text):
        if line.strip():
            try:
                row = jsonio.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"malformed JSON ({exc.msg})", file=file, line=lineno) from None
            check_prediction_row(row, file, lineno)
            rows.append(row)
    return rows


def _deep_line(text: str) -> int | None:
    """The line where JSON ``text`` first nests deeper than the parser can follow (strings skipped)."""
    depth = 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth > 500:
                return text.count("\n", 0, m.start()) + 1
        elif token in "]}":
            depth -= 1
    return None


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
    if not file.is_file():
        raise InputError("file named by results.json not found", file=file)
    rows = []
    for lineno, line in lines(read_text(file, "jsonl")):  # UTF-8 (a BOM allowed); other bytes: file and line
        if line.strip():
            try:
                row = jsonio.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"malformed JSON ({exc.msg})", file=file, line=lineno) from None
            if isinstance(row, dict):
                rows.append(row)
    return rows
