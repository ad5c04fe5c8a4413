"""``harness validate --fix OUT``: a corrected copy — the separator added where it is missing, the training
file's leading whitespace and stop sequence on every completion, exact and normalised duplicates and rows leaked
from the training file removed, a BOM dropped and CRLF line endings made LF. The input is never written.

OUT is either a folder (a copy of the whole suite, with the corrected held-out file at its place: validate it
as a suite) or a file ending in .jsonl/.csv/.tsv (the corrected held-out file alone). Rows that are not
changed keep their text byte for byte.
"""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import UsageError
from ..suite import Suite
from .conventions import Conventions, ending_of
from .core import Checked
from .duplicates import Repeats
from .findings import Finding
from .rows import Split
from .text import add_separator, show

DATA_SUFFIXES = (".jsonl", ".csv", ".tsv", ".json")


@dataclass
class FixReport:
    out: Path  # the corrected suite folder, or the corrected held-out file
    heldout: Path  # the corrected held-out file
    changes: list[str] = field(default_factory=list)  # one line per kind of change
    removed: list[int] = field(default_factory=list)  # held-out lines dropped
    edited: list[int] = field(default_factory=list)  # held-out lines rewritten
    unfixed: list[Finding] = field(default_factory=list)  # errors and warnings --fix cannot correct

    @property
    def suite_folder(self) -> bool:
        return self.out != self.heldout


def _lines_text(lines: list[int], limit: int = 10) -> str:
    shown = ", ".join(map(str, lines[:limit]))
    return f"{shown}, … ({len(lines) - limit} more)" if len(lines) > limit else shown


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _check_out(checked: Checked, out: Path) -> tuple[Path, Path]:
    """(where the corrected held-out file goes, the suite folder to copy or None) — refusing to overwrite."""
    suite = checked.suite
    held = checked.heldout
    if held is None:
        raise UsageError("--fix: the held-out file could not be read, so there is nothing to correct")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--fix {out}: already exists; give a new folder or file (the input is never overwritten)")
    if out.suffix.lower() in DATA_SUFFIXES:
        for existing in (held.path, checked.train.path if checked.train else None, suite.path):
            if existing is not None and out.resolve() == existing.resolve():
                raise UsageError(f"--fix {out}: that is an input file; give a new file")
        return out, out
    if _inside(out, suite.root) or _inside(suite.root, out):
        raise UsageError(f"--fix {out}: give a folder outside the suite folder {suite.root}")
    for split in (held, checked.train):
        if split is not None and not _inside(split.path, suite.root):
            raise UsageError(f"--fix {out}: {split.path} is outside the suite folder, so a corrected suite cannot "
                             "be written; give a file name ending in .jsonl/.csv/.tsv for the held-out file alone")
    return out / held.path.resolve().relative_to(suite.root.resolve()), out


def _spans(text: str, starts: list[int]) -> list[tuple[int, list[str]]]:
    """The file as records: (first line, its physical lines); lines before the first record stay with it."""
    lines = io.StringIO(text, newline="").readlines()
    out: list[tuple[int, list[str]]] = []
    bounds = [s for s in starts if 1 <= s <= len(lines)]
    if not bounds or bounds[0] != 1:
        bounds = [1, *bounds]
    for i, start in enumerate(bounds):
        end = bounds[i + 1] if i + 1 < len(bounds) else len(lines) + 1
        out.append((start, lines[start - 1:end - 1]))
    return out


def fix_suite(checked: Checked, out: Path | str) -> FixReport:
    out = Path(out)
    target, root_out = _check_out(checked, out)
    held, conv, rep = checked.heldout, checked.conventions, checked.repeats
    assert held is not None and conv is not None and rep is not None
    codes = {f.code: f for f in checked.validation.findings}
    remove = rep.removable
    sep_rows = set(codes["separator-missing"].rows) if "separator-missing" in codes else set()
    space_rows = set(codes["completion-whitespace"].rows) if "completion-whitespace" in codes else set()
    stop_rows = set(codes["stop-sequence"].rows) if "stop-sequence" in codes else set()
    by_line = {r.line: r for r in held.rows}
    report = FixReport(out=root_out, heldout=target)
    parts: list[str] = []
    changed_sep, changed_space, changed_stop = [], [], []
    for start, lines in _spans(held.text, sorted(by_line)):
        row = by_line.get(start)
        if row is not None and row.ok and start in remove:
            report.removed.append(start)
            continue
        if row is None or not row.ok or held.format not in ("openai-jsonl", "chat-jsonl") or \
                not ({start} & (sep_rows | space_rows | stop_rows)):
            parts.extend(lines)
            continue
        obj = row.raw
        completion = row.completion or ""
        if start in space_rows and conv.space is not None:
            completion = conv.space + completion.lstrip()
            changed_space.append(start)
        if start in stop_rows and conv.stop is not None:
            ending = ending_of(row) or ""
            completion = completion[: len(completion) - len(ending)] + conv.stop
            changed_stop.append(start)
        if held.format == "openai-jsonl":
            if start in sep_rows:
                obj["prompt"] = add_separator(obj["prompt"], conv.separator)
                changed_sep.append(start)
            obj["completion"] = completion
        else:
            msgs = obj["messages"]
            if start in sep_rows:
                last_user = max(i for i, m in enumerate(msgs[:-1]) if m["role"] == "user")
                msgs[last_user]["content"] = add_separator(msgs[last_user]["content"], conv.separator)
                changed_sep.append(start)
            msgs[-1]["content"] = completion
        report.edited.append(start)
        ending = lines[-1][len(lines[-1].rstrip("\r\n")):] or "\n"
        parts.append(json.dumps(obj, ensure_ascii=False) + ending)
    text = "".join(parts).replace("\r\n", "\n")
    _describe(report, held, rep, changed_sep, changed_space, changed_stop, conv)
    if root_out != target:
        shutil.copytree(checked.suite.root, root_out, symlinks=True, dirs_exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text.encode("utf-8", "surrogateescape"))  # bytes that were not UTF-8 stay as they were
    fixed = {"bom", "crlf", "separator-missing", "completion-whitespace", "stop-sequence", "duplicate",
             "duplicate-normalised", "leak", "leak-normalised"}
    report.unfixed = [f for f in checked.validation.findings if f.severity != "info" and f.code not in fixed]
    return report


def _describe(report: FixReport, held: Split, rep: Repeats, sep: list[int], space: list[int], stop: list[int],
              conv: Conventions) -> None:
    if sep:
        report.changes.append(f"added the separator {show(conv.separator)} to {len(sep)} prompt(s): "
                              f"lines {_lines_text(sep)}")
    if space:
        report.changes.append(f"set the completion's leading whitespace to {show(conv.space or '')} on "
                              f"{len(space)} row(s): lines {_lines_text(space)}")
    if stop:
        report.changes.append(f"set the stop sequence to {show(conv.stop or '')} on {len(stop)} row(s): "
                              f"lines {_lines_text(stop)}")
    removed = set(report.removed)
    leaked = sorted(set(rep.leak_exact) | set(rep.leak_normalised))
    for what, lines in (("exact duplicate(s)", rep.exact), ("duplicate(s) ignoring case and whitespace",
                                                            rep.normalised),
                        ("row(s) leaked from the training file", leaked)):
        gone = [x for x in lines if x in removed]
        if gone:
            report.changes.append(f"removed {len(gone)} {what}: lines {_lines_text(gone)}")
            removed -= set(gone)
    if held.bom:
        report.changes.append("dropped the UTF-8 byte-order mark")
    if held.crlf_lines:
        report.changes.append("converted CRLF line endings to LF")


def revalidation_suite(suite: Suite, report: FixReport) -> Suite | Path:
    """What to check again after a fix: the corrected suite folder, or the suite with its held-out file replaced
    by the corrected file."""
    if report.suite_folder:
        return report.out
    data = suite.data.model_copy(update={"heldout": str(report.heldout.resolve())})
    return replace(suite, data=data)
