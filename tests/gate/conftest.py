"""Fixtures for the gate's tests: real runs of harness with chosen predictions (the `predictions` provider),
and in-memory inputs for the statistical properties."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from harness_testkit import write_data

from harness.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))  # gate_sim: the simulator the benchmark uses too


def gold_labels(n: int, labels: Sequence[str], seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [labels[i] for i in rng.integers(0, len(labels), n)]


def predictions(gold: Sequence[str], labels: Sequence[str], right: Sequence[bool] | np.ndarray,
                confidence: Sequence[float] | np.ndarray | None = None, skip: Sequence[int] = (),
                seed: int = 1) -> list[dict[str, Any]]:
    """Rows for the `predictions` provider: right where ``right``, else another label; probabilities that
    put ``confidence`` on the predicted label (none when ``confidence`` is None); ``skip``: ids left out
    (they count as failed)."""
    rng = np.random.default_rng(seed)
    rows = []
    k = len(labels)
    for i, g in enumerate(gold):
        if i in set(skip):
            continue
        if right[i]:
            pred = g
        else:
            pred = labels[(labels.index(g) + 1 + int(rng.integers(0, k - 1))) % k]
        row: dict[str, Any] = {"id": f"e{i}", "label": pred}
        if confidence is not None:
            c = float(confidence[i])
            row["probs"] = {lab: (c if lab == pred else (1.0 - c) / (k - 1)) for lab in labels}
        rows.append(row)
    return rows


@pytest.fixture
def gate_suite(tmp_path: Path) -> Callable[..., Path]:
    """``gate_suite(gold, labels=..., gate=..., folder=...)``: a suite whose held-out examples have these gold
    labels (ids e0, e1, ...); returns the folder."""

    def make(gold: Sequence[str], labels: Sequence[str] = ("neg", "pos"), folder: str = "suite",
             **fields: Any) -> Path:
        root = tmp_path / folder
        root.mkdir(parents=True, exist_ok=True)
        pairs = [(f"example {i} text {folder}", g) for i, g in enumerate(gold)]
        write_data(root / "heldout.jsonl", pairs, "openai-jsonl", [f"e{i}" for i in range(len(gold))])
        doc: dict[str, Any] = {"name": folder, "data": {"heldout": "heldout.jsonl"}, "labels": list(labels)}
        doc.update(fields)
        (root / "suite.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return root

    return make


@pytest.fixture
def run_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Path]:
    """``run_models(suite, {name: rows}, out=..., extra=[...])``: ``harness run`` with those models (through
    the `predictions` provider), no report; returns the run folder. What the run printed (its tables, the data
    checks' warnings) is read away, so a test reads only what it runs next."""

    def run(suite: Path, models: dict[str, list[dict[str, Any]]], out: str = "run", extra: Sequence[str] = (),
            expect: int | None = 0) -> Path:
        args = ["run", str(suite), "--only", "--out", str(tmp_path / out), "--no-report", "--bootstrap", "300"]
        for name, rows in models.items():
            file = tmp_path / f"{out}-{name.replace('/', '_')}.jsonl"
            file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
            args += ["--model", f"{name}=predictions:{file}"]
        code = main(args + list(extra))
        printed = capsys.readouterr()
        if expect is not None:
            assert code == expect, printed.err[-2000:]
        return tmp_path / out

    return run


@pytest.fixture
def rules_file(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str, name: str = "rules.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write
