"""Helpers for the embeddings provider tests: a suite with a training split, vectors with label signal, runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from fakes.embeddings import hash_vector
from openai_testkit import SEP

from harness.cli.main import main

LABELS = ("baseball", "hockey")
MODEL = "text-embedding-3-small"
#: a zero-shot model over MODEL (the suite entry)
ZS = {"provider": "embeddings", "argument": MODEL, "options": {"classifier": "zero-shot"}}
WORDS = {"baseball": ["pitcher", "inning", "bullpen", "shortstop", "homer"],
         "hockey": ["goalie", "puck", "faceoff", "icing", "powerplay"]}


def signal_vector(text: str) -> list[float]:
    """Deterministic 8-dimensional vectors that lean towards their topic (so the classifiers have signal)."""
    v = np.asarray(hash_vector(text), dtype=np.float64)
    for k, lab in enumerate(LABELS):
        v[k] += 0.8 * sum(text.count(w) for w in WORDS[lab])
    return [float(x) for x in v]


def texts(n: int, prefix: str, seed: int = 0) -> list[tuple[str, str, str]]:
    """(id, text, label) rows: topic words, some from the other topic (noise), a unique tail."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        lab = LABELS[i % 2]
        other = LABELS[1 - i % 2]
        words = [str(rng.choice(WORDS[lab])) for _ in range(2)] + [str(rng.choice(WORDS[other]))]
        out.append((f"{prefix}{i:03d}", f"{' '.join(words)} note {prefix}{i}", lab))
    return out


def write_split(path: Path, rows: Sequence[tuple[str, str, str]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for ex_id, text, label in rows:
            fh.write(json.dumps({"id": ex_id, "prompt": text + SEP, "completion": " " + label}) + "\n")


def write_suite(root: Path, *, n_train: int = 40, n_heldout: int = 20, descriptions: dict[str, str] | None = None,
                models: dict[str, Any] | None = None, train: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_split(root / "heldout.jsonl", texts(n_heldout, "h", seed=1))
    data: dict[str, Any] = {"heldout": "heldout.jsonl", "format": "openai-jsonl"}
    if train:
        write_split(root / "train.jsonl", texts(n_train, "t", seed=2))
        data["train"] = "train.jsonl"
    labels: list[Any] = [{"name": lab, **({"description": descriptions[lab]} if descriptions else {})}
                         for lab in LABELS]
    doc = {"name": root.name, "data": data, "labels": labels,
           "metrics": ["accuracy", "log_loss"], "models": models or {"emb": f"embeddings:{MODEL}"}}
    (root / "suite.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return root


def split_rows(root: Path, name: str) -> list[tuple[str, str, str]]:
    rows = [json.loads(line) for line in (root / f"{name}.jsonl").read_text().splitlines() if line.strip()]
    return [(r["id"], r["prompt"][: -len(SEP)], r["completion"].strip()) for r in rows]


def run(suite: Path, out: Path, *args: Any) -> int:
    return main(["run", str(suite), "--out", str(out), "--progress", "off", "--no-report", *map(str, args)])


def predictions(out: Path, model: str = "emb") -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines() if line.strip()]
    return [r for r in rows if r["model"] == model]


def model_entry(out: Path, model: str = "emb") -> dict[str, Any]:
    results = json.loads((out / "results.json").read_text())
    return next(m for m in results["models"] if m["name"] == model)


def inputs_of(fake: Any) -> list[list[str]]:
    """The inputs of every /embeddings request the server got, in order."""
    out = []
    for call in fake.calls("/embeddings"):
        given = call.json["input"]
        out.append(given if isinstance(given, list) else [given])
    return out
