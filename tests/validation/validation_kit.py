"""Helpers of the data-check tests: rows written one by one, so every separator, space and line is known."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SEP = "\n\n###\n\n"


def jsonl(path: Path, rows: Sequence[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def completion_rows(n: int, stem: str, labels: Sequence[str] = ("neg", "pos"), sep: str = SEP,
                    space: str = " ", stop: str = "") -> list[dict[str, str]]:
    return [{"prompt": f"{stem} {i} says something{sep}", "completion": f"{space}{labels[i % len(labels)]}{stop}"}
            for i in range(n)]


def planted_suite(write_suite: Any) -> Path:
    """A held-out file with defects at known lines (see test_validate_checks.py for which)."""
    train = completion_rows(60, "train")
    held = [dict(r, id=f"h{i}") for i, r in enumerate(completion_rows(40, "held"), 1)]
    for line in (3, 17):  # no separator
        held[line - 1]["prompt"] = held[line - 1]["prompt"][: -len(SEP)]
    for line in (5, 22, 31):  # no leading space
        held[line - 1]["completion"] = held[line - 1]["completion"].lstrip()
    held[8 - 1].update(prompt=train[10]["prompt"], completion=train[10]["completion"])  # leaked as is
    held[12 - 1].update(prompt="TRAIN  11 Says   something" + SEP, completion=train[11]["completion"])  # case, spaces
    held[26 - 1].update(prompt="HELD 1  says something" + SEP, completion=held[1]["completion"])  # ~ line 2
    held[35 - 1].update(prompt=held[3]["prompt"], completion=held[3]["completion"])  # = line 4
    held[38 - 1].update(prompt="the same words" + SEP, completion=" neg")
    held[39 - 1].update(prompt="The same  words" + SEP, completion=" pos")  # conflicting label
    return write_suite(held, train=train)
