"""The hf providers' offline facts for the data checks (``Provider.model_facts``): the model folder's own tokenizer,
its context window from config.json, its chat template and whole-label scoring — so ``harness validate`` accepts
labels that share a first letter or a first token (the provider scores them apart) and flags examples the
provider would fail as too long."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.cli.main import main
from harness.plugins import load_registry
from harness.providers import ModelSpec
from harness.suite import load_suite
from harness.validation import validate

SEP = "\n\n###\n\n"


def write_suite(root: Path, labels, texts=None, models=None) -> Path:
    texts = texts or [f"Is Paris in France {i}" for i in range(8)]
    root.mkdir(parents=True, exist_ok=True)
    with (root / "heldout.jsonl").open("w") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": f"e{i}", "prompt": t + SEP, "completion": " " + labels[i % len(labels)]}) + "\n")
    doc = {"name": root.name, "labels": list(labels), "data": {"heldout": "heldout.jsonl", "format": "openai-jsonl"},
           "metrics": ["accuracy"]}
    if models:
        doc["models"] = models
    (root / "suite.yaml").write_text(yaml.safe_dump(doc))
    return root


def facts(provider: str, folder: Path, suite_root: Path, **options):
    registry = load_registry(entry_points=False)
    spec = ModelSpec("m", provider, str(folder), options, origin="--model")
    return registry.providers[provider].model_facts(spec, load_suite(suite_root))


def test_the_facts_are_the_folders_own_tokenizer_window_and_template(tiny, tmp_path) -> None:
    tok, _, folder, chat = tiny
    suite = write_suite(tmp_path / "s", ("False", "France"))
    f = facts("hf", folder, suite)
    assert f.scoring == "full" and f.chat is False and f.context_window == 512  # config.json max_position_embeddings
    for text in ("Is Paris in France", " False", "New York is a city"):
        assert f.tokenizer.encode(text) == tok(text, add_special_tokens=False)["input_ids"]
    ex = load_suite(suite).heldout.examples[0]
    assert f.prompt_tokens(ex) == len(tok(ex.prompt)["input_ids"])  # the completion prompt, BOS included
    c = facts("hf", chat, suite)
    assert c.chat is True  # the tokenizer's chat template formats the prompt, as the provider does
    assert c.prompt_tokens(ex) > f.prompt_tokens(ex) - 1
    assert facts("hf", chat, suite, chat=False).chat is False


def test_labels_sharing_a_first_letter_but_not_a_first_token_are_accepted(tiny, tmp_path) -> None:
    _, _, folder, _ = tiny
    suite = write_suite(tmp_path / "s", ("False", "France"))
    v = validate(suite, [f"m=hf:{folder}"], only=True)
    assert v.ok and v.get("label-first-token-collision") is None and v.get("no-model-facts") is None
    assert v.get("label-multi-token") is None and v.get("length-unchecked") is None


def test_labels_sharing_a_first_token_are_accepted_because_hf_scores_whole_labels(tiny, tmp_path) -> None:
    _, _, folder, _ = tiny
    labels = ("New York", "New Jersey")  # both begin with the token 'New' under this tokenizer
    suite = write_suite(tmp_path / "s", labels)
    first = facts("hf", folder, suite).tokenizer
    assert first.encode("New York")[0] == first.encode("New Jersey")[0]
    v = validate(suite, [f"m=hf:{folder}"], only=True)
    assert v.ok and v.get("label-first-token-collision") is None
    multi = v.get("label-multi-token", "m")
    assert multi is not None and "scored whole" in multi.message
    # the same labels through an OpenAI-compatible model with this tokenizer.json and first-token scoring: refused
    opt = {"o": {"provider": "openai", "argument": "llama", "options": {"tokenizer": str(folder)}}}
    refused = validate(write_suite(tmp_path / "o", labels, models=opt))
    f = refused.get("label-first-token-collision", "o")
    assert f is not None and f.severity == "error"
    full = {"o": {"provider": "openai", "argument": "llama", "options": {"tokenizer": str(folder), "scoring": "full"}}}
    assert validate(write_suite(tmp_path / "f", labels, models=full)).ok


def test_labels_the_provider_cannot_score_apart_are_an_error(tiny, tmp_path) -> None:
    _, _, folder, _ = tiny
    suite = write_suite(tmp_path / "s", ("Yes", "yes"))
    v = validate(write_suite(tmp_path / "c", ("Yes", "yes"), models={
        "m": {"provider": "hf", "argument": str(folder), "options": {"case_insensitive": True}}}))
    f = v.get("model-options", "m")
    assert f is not None and "'Yes' and 'yes'" in f.message
    assert validate(suite, [f"m=hf:{folder}"], only=True).ok  # case kept: different spellings, different tokens


def test_an_example_the_provider_would_fail_as_too_long_is_an_error_before_anything_is_loaded(tiny, tmp_path,
                                                                                               capsys) -> None:
    tok, _, folder, _ = tiny
    texts = ["Is Paris in France"] * 6
    texts[3] = "France is big " * 200  # far over the 512 positions of the tiny model
    suite = write_suite(tmp_path / "s", ("False", "France"), texts)
    f = validate(suite, [f"m=hf:{folder}"], only=True).get("too-long", "m")
    assert f is not None and list(f.rows) == [4] and "512" in f.message
    out = tmp_path / "out"
    assert main(["run", str(suite), "--only", "--model", f"m=hf:{folder}", "--out", str(out), "--progress", "off",
                 "--no-report"]) == 2
    assert "too-long" in capsys.readouterr().err and not out.exists()
    # the provider fails exactly that example when the run goes on anyway
    assert main(["run", str(suite), "--only", "--model", f"m=hf:{folder}", "--out", str(out), "--progress", "off",
                 "--no-report", "--allow-data-errors"]) == 3  # 1 of 6 failed: over the 10% limit
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    failed = [r["id"] for r in rows if r["status"] == "failed"]
    assert failed == ["e3"] and "context window" in rows[3]["error"]


def test_a_sweep_is_checked_against_its_final_model_else_its_last_checkpoint(tiny, run_dir, tmp_path) -> None:
    tok, _, _, _ = tiny
    suite = write_suite(tmp_path / "s", ("New York", "Boston"))
    f = facts("hf-checkpoints", run_dir, suite)
    assert f.model.endswith("(final model)") and f.context_window == 512 and f.scoring == "full"
    import shutil

    partial = tmp_path / "partial"
    shutil.copytree(run_dir, partial)
    for name in ("config.json", "model.safetensors"):
        (partial / name).unlink()
    f = facts("hf-checkpoints", partial, suite)
    assert f.model.endswith("(checkpoint-10)") and f.tokenizer.encode("Boston") == tok("Boston")["input_ids"]
    v = validate(suite, [f"run=hf-checkpoints:{run_dir}"], only=True)
    assert v.ok and v.get("no-model-facts") is None


def test_a_missing_folder_is_a_finding_with_its_name(tmp_path) -> None:
    suite = write_suite(tmp_path / "s", ("False", "France"))
    v = validate(suite, ["m=hf:./no-such-model"], only=True)
    f = v.get("model-options", "m")
    assert f is not None and f.severity == "error" and "no such model folder" in f.message


def test_an_adapter_is_checked_with_its_base_models_window(tiny, tmp_path) -> None:
    peft = pytest.importorskip("peft", reason="peft is not installed (pip install -e '.[peft]')")
    import torch
    from transformers import AutoModelForCausalLM

    _, _, folder, _ = tiny
    lm = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32)
    with torch.random.fork_rng():  # the other tests' random adapters stay as they were
        adapted = peft.get_peft_model(lm, peft.LoraConfig(r=2, target_modules=["q_proj"]))
    adapter = tmp_path / "adapter"
    adapted.save_pretrained(adapter)
    suite = write_suite(tmp_path / "s", ("False", "France"))
    f = facts("hf", adapter, suite)
    assert f.context_window == 512 and f.scoring == "full"
