"""Fixtures for the report tests: real runs of the bundled demo suites (once per session), rendered."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.plugins import load_registry
from harness.results import load_predictions
from harness.runner import RunOptions, run
from harness.suite import load_suite
from harness_reports import render_html
from harness_reports.render import side_files


@dataclass
class Demo:
    results_path: Path
    results: dict[str, Any]
    predictions: list[dict[str, Any]]
    html: str
    texts: dict[str, str]

    def fresh(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Deep copies to modify in a test."""
        return copy.deepcopy(self.results), copy.deepcopy(self.predictions)


def _run(name: str, out: Path) -> Demo:
    outcome = run(load_suite(name), load_registry(entry_points=False), RunOptions(out_dir=out))
    results = json.loads(outcome.results_path.read_text(encoding="utf-8"))
    preds = load_predictions(outcome.results_path, results)
    texts, validation = side_files(outcome.results_path, results, [])
    return Demo(outcome.results_path, results, preds, render_html(results, preds, texts=texts), texts)


@pytest.fixture(scope="session")
def binary_demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return _run("baseball-hockey", tmp_path_factory.mktemp("baseball-hockey"))


@pytest.fixture(scope="session")
def multiclass_demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return _run("support-tickets", tmp_path_factory.mktemp("support-tickets"))
