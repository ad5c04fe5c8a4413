"""Reading a suite's data files for checking: every row, however broken, with its line number.

The run's reader (:mod:`harness.suite.datasets`) stops at the first bad row; this one keeps going and turns each
problem into a finding (the same rules, so whatever this reads cleanly the run reads too), and keeps what the
other checks need: the raw prompt and completion (with their whitespace), chat messages, CSV fields.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import jsonio
from ..textfile import csv_source, iter_lines
from .findings import ERROR, INFO, WARNING, Finding, finding

_SURROGATE = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, kept by surrogateescape
_LONE = re.compile(r"\\u[dD][89a-fA-F]")  # a JSON escape that may decode to an unpaired surrogate
_ANY_SURROGATE = re.compile("[\ud800-\udfff]")
FORMATS = ("openai-jsonl", "chat-jsonl", "csv", "tsv")


@dataclass(slots=True)
class Row:
    """One data row. ``label`` is the stripped label text (None when missing or not a string); ``text`` is the
    input without separator or template (what duplicates and leaks are compared on)."""

    line: int
    raw: dict[str, Any]
    text: str | None = None
    prompt: str | None = None  # openai-jsonl: the prompt as written
    completion: str | None = None  # openai-jsonl completion / chat assistant content / CSV label cell, as written
    label: str | None = None
    messages: list[dict[str, str]] | None = None  # chat: the messages before the answer
    id: str | None = None
    ok: bool = True  # False: the row cannot be read as an example (reported as an error)

    @property
    def system(self) -> str | None:
        """The first system message of a chat row ("" when it has none)."""
        if self.messages is None:
            return None
        return next((m["content"] for m in self.messages if m.get("role") == "system"), "")

    @property
    def user_text(self) -> str | None:
        if self.messages is None:
            return None
        return "\n".join(m["content"] for m in self.messages if m.get("role") == "user")


@dataclass
class Split:
    """One data file, read leniently."""

    which: str  # "heldout" | "train"
    path: Path
    format: str
    rows: list[Row] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    text: str = ""  # the decoded file (BOM dropped, newlines as written)
    bom: bool = False
    crlf_lines: list[int] = field(default_factory=list)
    header: list[str] | None = None  # CSV/TSV
    id_field: str | None = None  # the explicit id field in use, if any
    _usable: tuple[int, list[Row]] | None = field(default=None, repr=False, compare=False)

    @property
    def usable(self) -> list[Row]:
        """The rows that read cleanly (worked out once, when the reading is done: the checks ask many times)."""
        if self._usable is None or self._usable[0] != len(self.rows):
            self._usable = (len(self.rows), [r for r in self.rows if r.ok])
        return self._usable[1]

    @property
    def derived_ids(self) -> bool:
        return self.id_field is None


def infer_format(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return suffix[1:]
    for line in iter_lines(text):
        if line.strip():
            try:
                first = json.loads(line)
            except ValueError:
                return "openai-jsonl"
            return "chat-jsonl" if isinstance(first, dict) and "messages" in first else "openai-jsonl"
    return "openai-jsonl"


class _Problems:
    """Rows grouped by (code, message) while reading; turned into one finding each."""

    def __init__(self, split: Split, check: str = "data") -> None:
        self.split = split
        self.check = check
        self.rows: dict[tuple[str, str, str], list[int]] = defaultdict(list)

    def add(self, code: str, message: str, line: int) -> None:
        # a bad training row only takes that row out of the checks: the run itself reads the held-out file
        severity = ERROR if self.split.which == "heldout" else WARNING
        self.rows[(code, severity, message)].append(line)

    def findings(self) -> list[Finding]:
        where = self.split.which.replace("heldout", "held-out").replace("train", "training")
        return [finding(code, sev, self.check, f"{where} file: {msg}", lines, file=str(self.split.path))
                for (code, sev, msg), lines in self.rows.items()]


def read_split(which: str, path: Path, fmt: str | None, labels: tuple[str, ...], data: Any) -> Split:
    """Read one data file. ``data`` is the suite's ``data:`` section (id, text and label fields)."""
    raw = path.read_bytes()  # the caller reports a missing file
    bom = raw.startswith(codecs.BOM_UTF8)
    if bom:
        raw = raw[len(codecs.BOM_UTF8):]
    text = raw.decode("utf-8", errors="surrogateescape")
    split = Split(which=which, path=path, format=fmt or infer_format(path, text), text=text, bom=bom)
    problems = _Problems(split)
    if "\r\n" in text or _SURROGATE.search(text):  # line by line only when some line has either
        for lineno, line in enumerate(iter_lines(text, ""), 1):
            if line.endswith("\r\n"):
                split.crlf_lines.append(lineno)
            if _SURROGATE.search(line):
                problems.add("not-utf8", "not valid UTF-8 text (save the file as UTF-8)", lineno)
    if split.format in ("openai-jsonl", "chat-jsonl"):
        _read_jsonl(split, labels, data, problems)
    else:
        _read_csv(split, labels, data, problems)
    _check_ids(split, problems)
    split.findings.extend(problems.findings())
    if not split.usable and not split.findings:
        split.findings.append(finding("no-examples", ERROR, "data", f"{_where(split)} file has no examples",
                                      file=str(path)))
    if bom:
        split.findings.append(finding("bom", WARNING if which == "heldout" else INFO, "data",
                                      f"{_where(split)} file starts with a UTF-8 byte-order mark",
                                      [1], file=str(path), fixable=which == "heldout"))
    if split.crlf_lines:
        split.findings.append(finding("crlf", INFO, "data", f"{_where(split)} file has Windows (CRLF) line endings",
                                      split.crlf_lines, file=str(path), fixable=which == "heldout"))
    return split


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _ANY_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _where(split: Split) -> str:
    return "held-out" if split.which == "heldout" else "training"


def _label(row: Row, value: Any, labels: tuple[str, ...], problems: _Problems, name: str) -> None:
    if not isinstance(value, str):
        row.ok = False
        problems.add("bad-field", f"{name} is not a string", row.line)
        return
    row.completion = value
    label = value.strip()
    if label in labels:  # one string for all the rows of a label (an unknown value is not interned: untrusted
        row.label = sys.intern(label)  # data would fill the interned strings, which Python 3.12 never frees)
    else:
        row.label = label
        row.ok = False
        folded = {lab.casefold(): lab for lab in labels}
        near = folded.get(row.label.casefold())
        hint = f" (it is {near!r} but for case)" if near else ""
        problems.add("unknown-label", f"label {row.label!r} is not in the suite's label set{hint}", row.line)


def _read_jsonl(split: Split, labels: tuple[str, ...], data: Any, problems: _Problems) -> None:
    surrogates = _SURROGATE.search(split.text) is not None
    escapes = _LONE.search(split.text) is not None
    exact = jsonio.has_long_digits(split.text)  # checked once for the file, not once a line
    for lineno, line in enumerate(iter_lines(split.text), 1):
        if not line.strip():
            continue
        try:
            obj = jsonio.loads(line, exact_ints=exact, unique_keys=True)
        except jsonio.DuplicateKey as exc:
            problems.add("malformed-json", f"duplicate key {exc.field!r} (a JSON object names it twice)", lineno)
            continue
        except (ValueError, RecursionError) as exc:
            msg = getattr(exc, "msg", None) or "not JSON"
            problems.add("malformed-json", f"malformed JSON ({msg})", lineno)
            continue
        if not isinstance(obj, dict):
            problems.add("malformed-json", "a line is not a JSON object", lineno)
            continue
        row = Row(line=lineno, raw=obj)
        split.rows.append(row)
        if split.format == "openai-jsonl":
            _openai_row(row, labels, problems)
        else:
            _chat_row(row, labels, problems)
        _row_id(row, split, data, problems)
        if surrogates and _SURROGATE.search(line):  # reported as not-utf8; the row's text is not text
            row.ok = False
        elif escapes and _LONE.search(line) and _has_lone_surrogate(obj):
            row.ok = False
            problems.add("bad-field", "a string holds an unpaired surrogate escape (\\ud800-\\udfff): it is not "
                         "text", lineno)


def _openai_row(row: Row, labels: tuple[str, ...], problems: _Problems) -> None:
    for key in ("prompt", "completion"):
        if key not in row.raw:
            row.ok = False
            problems.add("missing-field", f"missing field {key!r}", row.line)
    prompt = row.raw.get("prompt")
    if "prompt" in row.raw and not isinstance(prompt, str):
        row.ok = False
        problems.add("bad-field", "prompt is not a string", row.line)
    elif isinstance(prompt, str):
        row.prompt = row.text = prompt
    if "completion" in row.raw:
        _label(row, row.raw["completion"], labels, problems, "completion")


def _chat_row(row: Row, labels: tuple[str, ...], problems: _Problems) -> None:
    msgs = row.raw.get("messages")
    if not isinstance(msgs, list) or not msgs:
        row.ok = False
        problems.add("missing-field" if msgs is None else "bad-field", "expected a non-empty list of messages",
                     row.line)
        return
    if not all(isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
               for m in msgs):
        row.ok = False
        problems.add("bad-field", "each message needs a string role and content", row.line)
        return
    if msgs[-1]["role"] != "assistant":
        row.ok = False
        problems.add("bad-field", "the last message is not the assistant's label", row.line)
        return
    row.messages = [{"role": m["role"], "content": m["content"]} for m in msgs[:-1]]
    row.text = row.user_text
    _label(row, msgs[-1]["content"], labels, problems, "the assistant's label")


def _read_csv(split: Split, labels: tuple[str, ...], data: Any, problems: _Problems) -> None:
    delimiter = "," if split.format == "csv" else "\t"
    reader = csv.reader(csv_source(split.text), delimiter=delimiter)
    line = 1
    try:
        header = next(reader, None)
        if header is None:
            return
        split.header = header
        for col in sorted({c for c in header if header.count(c) > 1}):
            problems.add("malformed-csv", f"duplicate column {col!r} in the header", 1)
        missing = [c for c in (data.text_field, data.label_field) if c not in header]
        for col in missing:
            problems.add("missing-field", f"no column {col!r} (columns: {', '.join(header)})", 1)
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not cells:
                continue
            row = Row(line=start, raw=dict(zip(header, cells)))
            split.rows.append(row)
            if any(_SURROGATE.search(c) for c in cells):  # reported as not-utf8
                row.ok = False
            if len(cells) > len(header):
                row.ok = False
                problems.add("bad-row", "more fields than the header has", start)
            elif len(cells) < len(header) and not missing and \
                    any(c not in row.raw for c in (data.text_field, data.label_field)):
                row.ok = False
                quote = any("\n" in c or "\r" in c for c in cells)
                problems.add("bad-row", "fewer fields than the header has" + (" (a quote is never closed)" if quote
                                                                              else ""), start)
                continue
            if missing:
                row.ok = False
                continue
            value = row.raw.get(data.text_field)
            row.text = value if isinstance(value, str) else ""
            _label(row, row.raw.get(data.label_field), labels, problems, f"column {data.label_field!r}")
            _row_id(row, split, data, problems)
    except csv.Error as exc:
        problems.add("malformed-csv", f"malformed {split.format.upper()} ({exc})", line)


def _row_id(row: Row, split: Split, data: Any, problems: _Problems) -> None:
    key = data.id_field or ("id" if "id" in row.raw else None)
    if key is None:
        return
    split.id_field = key
    value = row.raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        row.ok = False
        problems.add("missing-id", f"missing example id ({key!r})", row.line)
    elif not isinstance(value, (str, int)) or isinstance(value, bool):
        row.ok = False
        problems.add("bad-field", f"example id ({key!r}) is not a string or an integer", row.line)
    else:
        row.id = str(value)


def _check_ids(split: Split, problems: _Problems) -> None:
    first: dict[str, int] = {}
    for row in split.rows:
        if row.id is None:
            continue
        if row.id in first:
            row.ok = False
            problems.add("duplicate-id", "an example id is used twice (the later rows are listed)", row.line)
        else:
            first[row.id] = row.line
