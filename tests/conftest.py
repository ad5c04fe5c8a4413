"""Shared fixtures for the foundation's tests: small suites written to tmp_path, a fresh registry, the CLI.

Other test folders (tests/stats, tests/openai, ...) may add their own conftest; the names here are specific
enough (``make_suite``, ``fresh_registry``, ``harness_cli``...) not to clash.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness_testkit import toy_pairs, write_data

from harness.cli.main import main
from harness.plugins import ALLOW_ENV, Registry, load_registry

# Plugins installed in the environment (a user's own metric package, say) must not change what the tests see:
# load no entry-point plugin, in this process and in every harness process a test starts. Tests of entry-point
# discovery install their plugin and lift this themselves (tests/test_plugins.py).
os.environ[ALLOW_ENV] = ""


def pytest_configure(config: pytest.Config) -> None:
    """The tests test this checkout: refuse to run against a regular install of another copy (the README's first
    command installs harness that way; its second installs this folder editable, as the tests need)."""
    import harness
    import harness_plugins
    import harness_reports

    root = Path(__file__).resolve().parents[1]
    stale = [f"{mod.__name__} from {Path(mod.__file__ or '').parent}" for mod, folder in
             ((harness, "harness"), (harness_plugins, "plugins"), (harness_reports, "reports"))
             if Path(mod.__file__ or "").resolve().parent != root / folder]
    if stale:
        pytest.exit("the tests would not test this checkout (" + "; ".join(stale) + "): install it editable first "
                    "(the README's second command: .venv/bin/pip install -q -e '.[test]')", returncode=4)


@pytest.fixture
def make_suite(tmp_path: Path) -> Callable[..., Path]:
    """``make_suite(heldout_pairs, labels=..., fmt=..., ids=..., train=pairs, folder=..., **suite_fields)``
    writes ``<tmp>/<folder>/suite.yaml`` plus its data and returns the suite folder. Extra keyword arguments
    become top-level suite.yaml fields (``models=``, ``metrics=``, ``positive=``...)."""

    def make(heldout: Sequence[tuple[str, str]] | None = None, *, labels: Sequence[str] = ("neg", "pos"),
             fmt: str = "openai-jsonl", ids: Sequence[str] | None = None,
             train: Sequence[tuple[str, str]] | None = None, folder: str = "suite",
             data: dict[str, Any] | None = None, **fields: Any) -> Path:
        root = tmp_path / folder
        root.mkdir(parents=True, exist_ok=True)
        ext = {"csv": "csv", "tsv": "tsv"}.get(fmt, "jsonl")
        heldout = list(heldout) if heldout is not None else toy_pairs(40, labels, seed=1)
        write_data(root / f"heldout.{ext}", heldout, fmt, ids)
        data_section: dict[str, Any] = {"heldout": f"heldout.{ext}", "format": fmt}
        if train is not None:
            write_data(root / f"train.{ext}", train, fmt)
            data_section["train"] = f"train.{ext}"
        data_section.update(data or {})
        doc: dict[str, Any] = {"name": folder, "data": data_section, "labels": list(labels)}
        doc.update(fields)
        (root / "suite.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return root

    return make


# --- plugins -------------------------------------------------------------------------------------


@pytest.fixture
def fresh_registry() -> Registry:
    """The built-in plugins only (no entry points from the environment)."""
    return load_registry(entry_points=False)


# --- CLI -----------------------------------------------------------------------------------------


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def harness_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``harness ARGS...`` in-process through :func:`harness.cli.main.main`; returns code, stdout, stderr."""

    def run(*args: Any) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run

