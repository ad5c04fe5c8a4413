"""Helpers shared by the foundation's tests (importable because tests/ is on sys.path under pytest)."""

from __future__ import annotations

import csv
import json
import random
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

TESTS = Path(__file__).parent
EXAMPLE_PLUGIN_SRC = TESTS / "example_plugin"
HARNESS_SCRIPT = Path(sys.executable).parent / "harness"

# --- data ----------------------------------------------------------------------------------------

_VOCAB = {
    "neg": "awful broken refund slow rude dirty late cold noisy bland".split(),
    "pos": "great lovely fast friendly clean tasty warm quiet fresh kind".split(),
    "billing": "invoice charge refund card payment".split(),
    "shipping": "parcel courier tracking delivery box".split(),
    "account": "password login email profile username".split(),
}
_NOISE = "the a it was and very our my this that".split()


def toy_pairs(n: int, labels: Sequence[str] = ("neg", "pos"), seed: int = 0,
              noise: float = 0.25) -> list[tuple[str, str]]:
    """``n`` deterministic (text, label) pairs: words drawn from a per-label vocabulary, some from another
    label's (so a classifier is good but not perfect). Every text is distinct."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(out) < n:
        label = labels[len(out) % len(labels)]
        words = []
        for _ in range(6):
            r = rng.random()
            if r < noise:
                words.append(rng.choice(_VOCAB[rng.choice(labels)]))
            elif r < 0.6:
                words.append(rng.choice(_NOISE))
            else:
                words.append(rng.choice(_VOCAB[label]))
        text = " ".join(words) + f" #{len(out)}"
        if text not in seen:
            seen.add(text)
            out.append((text, label))
    return out


SEP = "\n\n###\n\n"


def write_data(path: Path, pairs: Iterable[tuple[str, str]], fmt: str = "openai-jsonl",
               ids: Sequence[str] | None = None) -> Path:
    """Write (text, label) pairs in one of the suite data formats (``ids``: an explicit ``id`` field)."""
    pairs = list(pairs)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("csv", "tsv"):
        with path.open("w", encoding="utf-8", newline="") as fh:
            cols = (["id"] if ids else []) + ["text", "label"]
            w = csv.writer(fh, delimiter="," if fmt == "csv" else "\t")
            w.writerow(cols)
            for i, (text, label) in enumerate(pairs):
                w.writerow(([ids[i]] if ids else []) + [text, label])
        return path
    with path.open("w", encoding="utf-8") as fh:
        for i, (text, label) in enumerate(pairs):
            if fmt == "openai-jsonl":
                row: dict[str, Any] = {"prompt": text + SEP, "completion": " " + label}
            elif fmt == "chat-jsonl":
                row = {"messages": [{"role": "system", "content": "Classify."},
                                    {"role": "user", "content": text},
                                    {"role": "assistant", "content": label}]}
            else:  # pragma: no cover - test helper misuse
                raise ValueError(fmt)
            if ids:
                row = {"id": ids[i], **row}
            fh.write(json.dumps(row) + "\n")
    return path



def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
