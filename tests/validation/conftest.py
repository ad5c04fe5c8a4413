"""Suites with planted defects, written row by row (so every separator, space and line number is known)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from validation_kit import jsonl


@pytest.fixture
def write_suite(tmp_path: Path) -> Callable[..., Path]:
    """``write_suite(heldout_rows, train=rows, folder=..., heldout_name=..., **suite_fields)`` → the suite folder.
    Rows are dicts (JSON lines) or raw strings (written as they are)."""

    def make(heldout: Sequence[Any], *, train: Sequence[Any] | None = None, folder: str = "suite",
             heldout_name: str = "heldout.jsonl", train_name: str = "train.jsonl",
             labels: Sequence[str] = ("neg", "pos"), raw_heldout: bytes | None = None, **fields: Any) -> Path:
        root = tmp_path / folder
        root.mkdir(parents=True, exist_ok=True)
        if raw_heldout is not None:
            (root / heldout_name).write_bytes(raw_heldout)
        elif heldout_name.endswith((".csv", ".tsv")):
            (root / heldout_name).write_text("".join(heldout), encoding="utf-8")
        else:
            jsonl(root / heldout_name, heldout)
        data: dict[str, Any] = {"heldout": heldout_name}
        if train is not None:
            jsonl(root / train_name, train)
            data["train"] = train_name
        data.update(fields.pop("data", {}))
        doc = {"name": folder, "data": data, "labels": list(labels), **fields}
        (root / "suite.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return root

    return make
