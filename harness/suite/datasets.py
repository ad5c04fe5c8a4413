"""Reading held-out and training data: OpenAI fine-tuning JSONL, chat JSONL, CSV/TSV."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .. import jsonio
from ..errors import InputError
from ..examples import Example
from ..textfile import check_header, csv_source, lines, read_text
from .schema import DataSection, PromptSection

if TYPE_CHECKING:
    from .prompt_template import PromptTemplate


class DataSource(Protocol):
    """What reading a suite's data needs of it (a :class:`harness.suite.Suite`)."""

    path: Path
    data: DataSection
    labels: tuple[str, ...]
    prompt: PromptSection

    def data_path(self, which: str = "heldout") -> Path | None: ...
    def line_of(self, *path: Any) -> int | None: ...


@dataclass(frozen=True)
class Dataset:
    path: Path
    format: str
    sha256: str
    examples: tuple[Example, ...]

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def ids(self) -> list[str]:
        return [ex.id for ex in self.examples]


def content_id(*parts: str) -> str:
    """A stable id derived from an example's content (used when the data has no id field)."""
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"ex-{h[:12]}"


def _context_id(context: tuple[dict[str, str], ...]) -> str:
    return content_id(json.dumps(context, sort_keys=True, ensure_ascii=False))


def infer_format(path: Path, text: str | None = None) -> str:
    """The data format of a file: by extension (``.csv``, ``.tsv``), else chat or OpenAI JSONL by its first row."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".tsv":
        return "tsv"
    if text is None:
        text = read_text(path, "jsonl")
    for _, line in lines(text):
        if line.strip():
            try:
                first = jsonio.loads(line)
            except json.JSONDecodeError:
                return "openai-jsonl"  # the reader reports the bad line
            return "chat-jsonl" if isinstance(first, dict) and "messages" in first else "openai-jsonl"
    return "openai-jsonl"


def _jsonl_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    exact = jsonio.has_long_digits(text)  # checked once for the file, not once a line
    for lineno, line in lines(text):
        if not line.strip():
            continue
        try:
            row = jsonio.loads(line, exact_ints=exact, unique_keys=True)  # an id may be a long integer
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed JSON ({exc.msg} at column {exc.colno})", file=path,
                             line=lineno) from None
        except jsonio.DuplicateKey as exc:
            raise InputError(f"duplicate key {exc.key!r} (a JSON object names it twice)", file=path, line=lineno,
                             field=exc.field) from None
        if not isinstance(row, dict):
            raise InputError("each line must be a JSON object", file=path, line=lineno)
        yield lineno, row


def _csv_rows(path: Path, text: str, delimiter: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(csv_source(text), delimiter=delimiter)
    start = 1
    try:
        if reader.fieldnames is None:
            return
        check_header(reader.fieldnames, path)
        start = 2
        for row in reader:
            if None in row:
                raise InputError("more fields than the header has", file=path, line=start)
            short = [k for k, v in row.items() if v is None]  # the row ended before these columns
            if short:
                tail = text.rstrip("\r\n")  # a quote never closed: its field holds the rest of the file
                open_quote = any(("\n" in v or "\r" in v) and tail.endswith(v.rstrip("\r\n"))
                                 for v in row.values() if v)
                why = "; a quote opened on this line is never closed" if open_quote else ""
                raise InputError(f"fewer fields than the header has: no {short[0]!r}{why}", file=path,
                                 line=start, field=short[0])
            yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"malformed {'CSV' if delimiter == ',' else 'TSV'} ({exc})", file=path, line=start) from None


class _PromptBuilder:
    def __init__(self, suite: DataSource) -> None:
        self.sep = suite.prompt.separator
        self.system = suite.prompt.system
        self.template: PromptTemplate | None = None
        self.suite = suite
        if suite.prompt.template is not None:  # jinja2 loads only for a suite with a template
            from .prompt_template import PromptTemplate, TemplateProblem

            self._problem = TemplateProblem
            try:
                self.template = PromptTemplate(suite.prompt.template)
            except TemplateProblem as exc:
                raise self._error(exc.message, exc.line) from None

    def _error(self, message: str, line: int | None) -> InputError:
        """A template mistake: named at the suite file's ``prompt.template`` (and the template's own line)."""
        at = f" (template line {line})" if line is not None and "\n" in (self.suite.prompt.template or "") else ""
        return InputError(f"{message}{at}", file=self.suite.path, line=self.suite.line_of("prompt", "template"),
                          field="prompt.template")

    def strip_sep(self, prompt: str) -> str:
        return prompt[: -len(self.sep)] if self.sep and prompt.endswith(self.sep) else prompt

    def prompt(self, text: str, fields: dict[str, Any], file: Path, line: int) -> str:
        if self.template is None:
            return text + self.sep
        try:
            return self.template.render(text=text, **fields) + self.sep
        except self._problem as exc:
            raise self._error(f"the prompt template fails on {_where(file, self.suite.path.parent)}:{line}: "
                              f"{exc.message}", exc.line) from None

    def messages(self, user: str) -> tuple[dict[str, str], ...]:
        msgs = [{"role": "system", "content": self.system}] if self.system else []
        msgs.append({"role": "user", "content": user})
        return tuple(msgs)


def _where(file: Path, root: Path) -> str:
    """A data file as the user knows it: relative to the suite folder when inside it."""
    try:
        return str(file.resolve().relative_to(root.resolve()))
    except (ValueError, OSError):
        return file.name


def _label(raw: Any, labels: tuple[str, ...], file: Path, line: int, field: str) -> str:
    if not isinstance(raw, str):
        raise InputError(f"label must be a string, got {type(raw).__name__}", file=file, line=line, field=field)
    label = raw.strip()
    if label not in labels:
        raise InputError(f"label {label!r} is not in the suite's label set ({', '.join(labels)})",
                         file=file, line=line, field=field)
    return sys.intern(label)  # one string per label, not one per example


def _explicit_id(row: dict[str, Any], id_field: str | None, file: Path, line: int) -> str | None:
    key = id_field or ("id" if "id" in row else None)
    if key is None:
        return None
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError("missing example id", file=file, line=line, field=key)
    if not isinstance(value, (str, int)):
        raise InputError("example id must be a string or an integer", file=file, line=line, field=key)
    return str(value)


def load_dataset(suite: DataSource, which: str = "heldout") -> Dataset:
    path = suite.data_path(which)
    if path is None:
        raise InputError(f"the suite names no {which} data", file=suite.path, field=f"data.{which}")
    if not path.is_file():
        raise InputError(f"file not found: {path}", file=suite.path, line=suite.line_of("data", which),
                         field=f"data.{which}")
    by_suffix = {".csv": "csv", ".tsv": "tsv"}.get(path.suffix.lower(), "jsonl")
    text = read_text(path, {"csv": "csv", "tsv": "tsv"}.get(suite.data.format or "", by_suffix))
    fmt = suite.data.format or infer_format(path, text)
    builder = _PromptBuilder(suite)
    examples: list[Example] = []
    seen: dict[str, int] = {}
    labels = suite.labels
    source = str(path)  # one string shared by every example (not a copy each)

    if fmt in ("openai-jsonl", "chat-jsonl"):
        rows = _jsonl_rows(path, text)
    else:
        rows = _csv_rows(path, text, "," if fmt == "csv" else "\t")

    for line, row in rows:
        if fmt == "openai-jsonl":
            for key in ("prompt", "completion"):
                if key not in row:
                    raise InputError("missing field", file=path, line=line, field=key)
            if not isinstance(row["prompt"], str):
                raise InputError("prompt must be a string", file=path, line=line, field="prompt")
            label = _label(row["completion"], labels, path, line, "completion")
            text = builder.strip_sep(row["prompt"])
            prompt = builder.prompt(text, {}, path, line) if builder.template else row["prompt"]
            messages = builder.messages(prompt)
            derived = (content_id, row["prompt"])
            content_field = "prompt"
        elif fmt == "chat-jsonl":
            msgs = row.get("messages")
            if not isinstance(msgs, list) or not msgs:
                raise InputError("expected a non-empty list of messages", file=path, line=line, field="messages")
            for i, m in enumerate(msgs):
                if not isinstance(m, dict) or not isinstance(m.get("role"), str) or \
                        not isinstance(m.get("content"), str):
                    raise InputError("each message needs a string role and content", file=path, line=line,
                                     field=f"messages[{i}]")
            last = msgs[-1]
            if last["role"] != "assistant":
                raise InputError("the last message must be the assistant's label", file=path, line=line,
                                 field=f"messages[{len(msgs) - 1}].role")
            label = _label(last["content"], labels, path, line, f"messages[{len(msgs) - 1}].content")
            context = tuple({"role": m["role"], "content": m["content"]} for m in msgs[:-1])
            text = "\n".join(m["content"] for m in context if m["role"] == "user")
            prompt = builder.prompt(text, {}, path, line)
            messages = context
            derived = (_context_id, context)
            content_field = "messages"
        else:
            for key in (suite.data.text_field, suite.data.label_field):
                if key not in row:
                    raise InputError(f"missing column (columns: {', '.join(row)})", file=path, line=line,
                                     field=key)
            text = row[suite.data.text_field]
            label = _label(row[suite.data.label_field], labels, path, line, suite.data.label_field)
            prompt = builder.prompt(text, {k: v for k, v in row.items() if k != "text"}, path, line)
            messages = builder.messages(prompt)
            derived = (content_id, text)
            content_field = suite.data.text_field
        explicit = _explicit_id(row, suite.data.id_field, path, line)
        ex_id = explicit or derived[0](derived[1])  # the content's digest only where there is no id
        if ex_id in seen:
            if explicit:
                what, where = "example id", suite.data.id_field or "id"
            else:  # a derived id: the duplicate is the content itself
                what, where = "example (same content, derived id)", content_field
            raise InputError(f"duplicate {what} {ex_id!r}, first seen on line {seen[ex_id]}", file=path,
                             line=line, field=where)
        seen[ex_id] = line
        examples.append(Example(id=ex_id, label=label, text=text, prompt=prompt, messages=messages,
                                source=source, line=line))
    if not examples:
        raise InputError("no examples", file=path)
    return Dataset(path=path, format=fmt, sha256=file_sha256(path), examples=tuple(examples))


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
