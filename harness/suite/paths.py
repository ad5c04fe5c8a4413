"""Paths as shareable outputs show them (report notices, the gate's gate.md, gate.junit.xml and gate.json): never
the folder harness is installed in, which says nothing to the reader and something about the machine.

A path under the current folder is shown relative to it (``suites/my-suite/suite.yaml``); a bundled suite's by
its name (``baseball-hockey/suite.yaml``); a file of harness itself from the package
(``harness/data/gate-defaults.yaml``); anything else as it was given. Error messages on the terminal keep the
full path: there it is the most useful."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # the folder of harness's own files (harness/data/...)


def _under(path: Path, root: Path) -> str | None:
    try:
        rel = path.relative_to(root)
    except ValueError:
        return None
    return rel.as_posix() if rel.parts else None


def shown_path(path: str | Path) -> str:
    """``path`` as a shareable output shows it (see the module docstring)."""
    p = Path(path)
    if not p.is_absolute():
        return str(path)
    p = Path(os.path.normpath(p))
    from .load import bundled_suites_dir

    try:
        cwd = Path.cwd()
    except OSError:  # the current folder was removed
        cwd = None
    anchors = [(cwd, ""), (bundled_suites_dir(), ""), (PACKAGE, "harness/")]
    for root, prefix in anchors:
        if root is None:
            continue
        for base in dict.fromkeys((root, root.resolve())):
            rel = _under(p, base) or _under(p.resolve(), base)
            if rel is not None:
                return prefix + rel
    return str(path)
