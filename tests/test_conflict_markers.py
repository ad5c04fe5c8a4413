"""No tracked text file holds git conflict markers (an earlier merge once left them in README.md).

A marker is a line that begins with seven ``<``, ``>`` or ``|`` followed by a space or the end of the line
(``<<<<<<< HEAD``, ``>>>>>>> branch``, diff3's ``||||||| base``), or a line that is exactly seven ``=``. In
Markdown and reStructuredText a line of ``=`` is also a heading underline, so there a lone ``=======`` counts
only between an opening and a closing marker (which are caught anyway); everywhere else it counts on its own —
a resolution that deleted the ``<<<``/``>>>`` lines but kept the separator is caught too.

The markers in this file are built from pieces, so it does not match itself.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEVEN = 7
OPEN, CLOSE, BASE, SEP = "<" * SEVEN, ">" * SEVEN, "|" * SEVEN, "=" * SEVEN
_EDGE = re.compile("^(" + "|".join(re.escape(m) for m in (OPEN, CLOSE, BASE)) + ")( |$)")
HEADING_FORMATS = (".md", ".markdown", ".rst")
#: Folders that are not the project's own files when git cannot list the tracked ones (an unpacked sdist).
_NOT_OURS = {".git", ".venv", "venv", "build", "dist", "__pycache__", ".mypy_cache", ".ruff_cache",
             ".pytest_cache", "node_modules"}


def conflict_lines(text: str, name: str) -> list[int]:
    """1-based numbers of the lines of ``text`` (a file called ``name``) that are conflict markers."""
    headings = name.lower().endswith(HEADING_FORMATS)
    out: list[int] = []
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _EDGE.match(line):
            out.append(number)
            inside = line.startswith(OPEN) or (inside and line.startswith(BASE))
        elif line == SEP and (inside or not headings):
            out.append(number)
    return out


def tracked_files() -> list[Path]:
    """The files git tracks here; every file but tool folders where this is not a git checkout."""
    try:
        proc = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        proc = None
    if proc is not None and proc.returncode == 0 and proc.stdout:
        return [ROOT / p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
    out = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in _NOT_OURS and not d.endswith(".egg-info")]
        out += [Path(folder) / f for f in files]
    return out


def text_of(path: Path) -> str | None:
    """The file's text, or None for a binary file (NUL bytes, not UTF-8) or one that is gone."""
    try:
        data = path.read_bytes()
    except OSError:  # deleted in the working tree, a broken symlink
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def test_no_tracked_file_holds_conflict_markers() -> None:
    files = tracked_files()
    assert len(files) > 50, "found too few files to check: is this the repository?"
    found = []
    for path in files:
        text = text_of(path)
        if text is not None:
            found += [f"{path.relative_to(ROOT)}:{n}" for n in conflict_lines(text, path.name)]
    assert not found, "git conflict markers left by a merge: " + ", ".join(found[:20])


CONFLICT = f"a\n{OPEN} HEAD\nours\n{SEP}\ntheirs\n{CLOSE} feature\nb\n"


@pytest.mark.parametrize("name", ["README.md", "x.py", "notes.rst", "data.yaml"])
def test_a_conflict_is_found_in_every_kind_of_file(name: str) -> None:
    assert conflict_lines(CONFLICT, name) == [2, 4, 6]
    diff3 = f"{OPEN} ours\na\n{BASE} base\nb\n{SEP}\nc\n{CLOSE} theirs\n"
    assert conflict_lines(diff3, name) == [1, 3, 5, 7]
    assert conflict_lines(f"x\n{OPEN}\ny\n", name) == [2]  # a marker without a label


def test_heading_underlines_are_not_conflicts_but_a_stray_separator_in_code_is() -> None:
    heading = f"Title\n{SEP}\n\ntext\n"
    assert conflict_lines(heading, "docs/guide.md") == []
    assert conflict_lines(heading, "index.rst") == []
    assert conflict_lines(f"x = 1\n{SEP}\ny = 2\n", "module.py") == [2]  # the <<< and >>> lines were deleted


def test_look_alikes_are_not_conflicts() -> None:
    lookalikes = [f"{OPEN}< eight", f"  {OPEN} indented", f"{OPEN}x", f"{SEP}=", f"{SEP} ", f" {SEP}",
                  f"{CLOSE}>", "print('" + OPEN + " HEAD')", f"{SEP[:6]}"]
    assert conflict_lines("\n".join(lookalikes) + "\n", "x.py") == []
