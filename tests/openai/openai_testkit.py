"""Constants and helpers shared by the OpenAI provider tests (a uniquely named module: importable from any
test file in this folder, unlike ``conftest``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

KEY = "sk-test-HARNESS-SECRET-7f3a9c2e51d84b06"
AZURE_KEY = "azkey-HARNESS-SECRET-0d6e4b1a9c"
SEP = "\n\n###\n\n"


def write_suite(root: Path, rows: Sequence[tuple[str, str, str]], labels: Sequence[str] = ("baseball", "hockey"),
                metrics: Sequence[str] | None = None, **fields: Any) -> Path:
    """A suite folder with an openai-jsonl held-out file of (id, text, label) rows; returns the folder."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / "heldout.jsonl").open("w", encoding="utf-8") as fh:
        for ex_id, text, label in rows:
            fh.write(json.dumps({"id": ex_id, "prompt": text + SEP, "completion": " " + label}) + "\n")
    doc: dict[str, Any] = {"name": root.name, "data": {"heldout": "heldout.jsonl", "format": "openai-jsonl"},
                           "labels": list(labels)}
    if metrics is not None:
        doc["metrics"] = list(metrics)
    doc.update(fields)
    (root / "suite.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return root
