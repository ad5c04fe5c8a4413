"""What a user without the hf extra sees: the plugin loads (its providers are listed) and naming a model gives a
one-line error saying what to install. Runs with or without torch installed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import yaml

from harness.cli.main import main


def test_without_torch_the_hf_provider_says_what_to_install(tmp_path: Path, monkeypatch, capsys) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (folder / name).write_text("{}")
    (folder / "model.safetensors").write_bytes(b"")
    root = tmp_path / "s"
    root.mkdir()
    (root / "heldout.jsonl").write_text(json.dumps({"prompt": "a\n\n###\n\n", "completion": " yes"}) + "\n")
    (root / "suite.yaml").write_text(yaml.safe_dump({"name": "s", "labels": ["yes", "no"],
                                                     "data": {"heldout": "heldout.jsonl",
                                                              "format": "openai-jsonl"}}))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("torch", "transformers") else real(name, *a))
    code = main(["run", str(root), "--model", f"m=hf:{folder}", "--only", "--out", str(tmp_path / "o"),
                 "--progress", "off"])
    err = capsys.readouterr().err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err
    assert "needs torch and transformers" in lines[0] and "harness-eval[hf]" in lines[0]
    assert "download.pytorch.org/whl/cpu" in lines[0]  # the CPU build, not several GB of CUDA


def test_the_hf_plugin_loads_without_the_extra() -> None:
    from harness.plugins import load_registry

    registry = load_registry(entry_points=False)
    assert {"hf", "hf-checkpoints"} <= set(registry.providers)
