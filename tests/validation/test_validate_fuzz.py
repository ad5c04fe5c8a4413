"""Randomly damaged data files (seeded): validate and --fix give findings or a clean input error, never a crash."""

from __future__ import annotations

import json
import random

import pytest

from harness.errors import HarnessError
from harness.validation import check_suite
from harness.validation.fix import fix_suite

SEP = "\n\n###\n\n"
LABELS = ("neg", "pos")
FILES = {
    "h.jsonl": "".join(json.dumps({"prompt": f"held {i} caf\u00e9{SEP}", "completion": " " + LABELS[i % 2]}) + "\n"
                       for i in range(20)),
    "c.jsonl": "".join(json.dumps({"messages": [{"role": "system", "content": "S"},
                                                {"role": "user", "content": f"m {i}"},
                                                {"role": "assistant", "content": LABELS[i % 2]}]}) + "\n"
                       for i in range(20)),
    "h.csv": "text,label\n" + "".join(f'"t, {i}",{LABELS[i % 2]}\n' for i in range(20)),
}
PIECES = [b"{", b"}", b"[", b"]", b'"', b"\\", b"\n", b"\r\n", b"\r", b",", b":", b"\xff", b"\xef\xbb\xbf",
          b"\\ud800", b"null", b"1e999", b"###", b"\x00", b" pos", b"POS", b'"id": 1,', b'"id": "a",']
TEMPLATES = ["", "prompt: {template: 'P: {{ text }}'}\n", "prompt: {separator: ''}\n", "prompt: {system: S}\n",
             "prompt: {template: '{{ text }} {{ missing }}'}\n"]


def _damage(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        pos = rng.randrange(len(b) + 1)
        op = rng.random()
        if op < 0.4:
            b[pos:pos] = rng.choice(PIECES)
        elif op < 0.7 and len(b) > 1:
            del b[pos:pos + rng.randint(1, 10)]
        else:
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    return bytes(b)


@pytest.mark.parametrize("seed", range(4))
def test_damaged_files_never_crash_validate_or_fix(tmp_path, fresh_registry, seed):
    rng = random.Random(seed)
    for case in range(15):
        name = rng.choice(sorted(FILES))
        root = tmp_path / f"s{case}"
        root.mkdir()
        (root / name).write_bytes(_damage(rng, FILES[name].encode()))
        (root / "t.jsonl").write_text(FILES["c.jsonl" if name == "c.jsonl" else "h.jsonl"], encoding="utf-8")
        (root / "suite.yaml").write_text(f"data: {{heldout: {name}, train: t.jsonl}}\nlabels: [neg, pos]\n"
                                         f"{rng.choice(TEMPLATES)}", encoding="utf-8")
        checked = check_suite(root, ["openai:gpt-4o-mini", "c=openai-completions:babbage-002"],
                              registry=fresh_registry)
        json.dumps(checked.validation.to_json())
        try:
            fix_suite(checked, tmp_path / f"fixed{case}")
        except HarnessError:
            pass  # e.g. nothing readable to correct: a clean input error
