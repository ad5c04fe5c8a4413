"""Reading the text files users hand to harness (suites, data, predictions, results): UTF-8, with or without
the byte-order mark spreadsheet programs write (Excel's "CSV UTF-8" starts with one; read as plain UTF-8 it
would glue itself to the first column's name), and bytes that are not UTF-8 an error naming the file, the line,
the column and, where the format tells, the field.

Providers reading their own files use :func:`read_text` (it is part of the plugin contract), then split lines
with :func:`lines` (the same universal newlines as ``open()``) or hand :func:`csv_source` to :mod:`csv`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import InputError

_BREAK = re.compile(rb"\r\n|\r|\n")
_SURROGATE = re.compile("[\udc80-\udcff]")


def read_text(path: str | Path, kind: str | None = None) -> str:
    """The file's text, decoded as UTF-8 (a leading byte-order mark dropped).

    Raises :class:`FileNotFoundError` for a missing file (callers say which file was expected) and
    :class:`InputError` for any other read failure or for bytes that are not UTF-8. ``kind`` (``"jsonl"``,
    ``"csv"``, ``"tsv"``, ``"json"``, ``"yaml"``) lets that error name the field holding the bad bytes."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise InputError("is a folder, not a file", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=path) from None
    return decode(data, path, kind)


def decode(data: bytes, path: str | Path, kind: str | None = None) -> str:
    """``data`` as text (see :func:`read_text`)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(data, exc.start, path, kind) from None


def lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) over ``text``, split as ``open()`` splits (``\\n``, ``\\r\\n`` or ``\\r``)."""
    return enumerate(iter_lines(text), 1)


#: characters of text split at a time: :class:`io.StringIO` holds its text at 4 bytes a character, so a large
#: file is split a chunk at a time (a 170 MB file would take a 680 MB copy at once)
CHUNK = 1 << 20


def iter_lines(text: str, newline: str | None = None) -> Iterator[str]:
    """The lines of ``text`` as ``io.StringIO(text, newline=newline)`` yields them, a chunk at a time. Chunks end
    just after a ``\\n``, so no ``\\r\\n`` is ever cut in two and every line is the same."""
    if len(text) <= CHUNK:
        yield from io.StringIO(text, newline=newline)
        return
    start, n = 0, len(text)
    while start < n:
        end = text.find("\n", start + CHUNK)
        end = n if end < 0 else end + 1
        yield from io.StringIO(text[start:end], newline=newline)
        start = end


#: The csv module refuses fields over 131,072 characters by default ("field larger than field limit"): a long
#: document in a data file is not malformed, so the limit is raised to what the C parser can hold.
CSV_FIELD_LIMIT = 2**31 - 1


def csv_source(text: str) -> io.StringIO:
    """A file-like object of ``text`` for :mod:`csv` readers (newlines left to the csv module, as it asks; the
    csv module's field size limit raised to :data:`CSV_FIELD_LIMIT`)."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    return io.StringIO(text, newline="")


def check_header(names: Sequence[str], path: str | Path) -> None:
    """A CSV/TSV header naming a column twice is an error naming the file, line 1 and the column (a reader
    would otherwise keep one of the two columns silently)."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(f"duplicate column {name!r} in the header", file=path, line=1, field=name)
        seen.add(name)


def _not_utf8(data: bytes, start: int, path: str | Path, kind: str | None) -> InputError:
    breaks = list(_BREAK.finditer(data, 0, start))
    line = len(breaks) + 1
    line_start = breaks[-1].end() if breaks else 0
    column = len(data[line_start:start].decode("utf-8", "replace")) + 1
    end = _BREAK.search(data, start)
    line_text = data[line_start:end.start() if end else len(data)].decode("utf-8", "surrogateescape")
    header = None
    if kind in ("csv", "tsv"):
        first = _BREAK.search(data)
        header = data[: first.start() if first else len(data)].decode("utf-8", "replace")
    field = _field_of(line_text, kind, header)
    return InputError(f"not valid UTF-8 text (byte 0x{data[start]:02x} at column {column}); save the file as UTF-8",
                      file=path, line=line, field=field)


def _field_of(line_text: str, kind: str | None, header: str | None) -> str | None:
    """Best effort: the field of a line whose undecodable bytes were kept as surrogates."""
    try:
        if kind == "jsonl":
            return _json_field(json.loads(line_text), ())
        if kind in ("csv", "tsv") and header is not None:
            delimiter = "," if kind == "csv" else "\t"
            names = next(csv.reader([header], delimiter=delimiter), [])
            cells = next(csv.reader([line_text], delimiter=delimiter), [])
            for i, cell in enumerate(cells):
                if _SURROGATE.search(cell):
                    return names[i] if i < len(names) and line_text != header else f"column {i + 1}"
        if kind == "json":
            key = re.match(r'\s*"((?:[^"\\]|\\.)*)"\s*:', line_text)
            return key.group(1) if key else None
        if kind == "yaml":
            key = re.match(r"\s*(?:-\s+)?([^\s:#'\"][^:#]*?)\s*:(?:\s|$)", line_text)
            return key.group(1) if key else None
    except (ValueError, csv.Error, RecursionError):
        return None
    return None


def _json_field(value: object, path: tuple[object, ...]) -> str | None:
    if isinstance(value, str):
        return ".".join(map(str, path)) or None if _SURROGATE.search(value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and _SURROGATE.search(key):
            return ".".join(map(str, (*path, key)))
        found = _json_field(item, (*path, key))
        if found:
            return found
    return None
