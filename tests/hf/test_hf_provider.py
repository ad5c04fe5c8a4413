"""The ``hf`` provider on tiny local models: its probabilities against direct computations on the model's logits,
batching and padding invariance, chat templates, invalid outputs, and one-line errors for unusable folders."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli.main import main
from harness.plugins import load_registry
from harness.providers import ModelSpec
from harness.suite import load_suite

SEP = "\n\n###\n\n"
TEXTS = ["Is Paris in France", "It is not True", "the capital of France", "Boston is a city",
         "goal save shot", "a very long example about the power play and the home run in the last inning"]


def write_suite(root: Path, labels: Sequence[str], texts: Sequence[str] = TEXTS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with (root / "heldout.jsonl").open("w") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": f"e{i}", "prompt": t + SEP, "completion": " " + labels[i % len(labels)]}) + "\n")
    (root / "suite.yaml").write_text(yaml.safe_dump({"name": root.name, "labels": list(labels),
                                                     "data": {"heldout": "heldout.jsonl", "format": "openai-jsonl"},
                                                     "metrics": ["accuracy", "log_loss"]}))
    return root


def score(folder: Path, suite_root: Path, **options: Any) -> tuple[Any, list[Any]]:
    suite = load_suite(suite_root)
    registry = load_registry(entry_points=False)
    spec = ModelSpec("m", "hf", str(folder), options, origin="--model")
    model = registry.providers["hf"].resolve(spec, suite).models[0]
    return model, model.predict_all(suite.heldout.examples)


def direct_logprobs(model: Any, ids: list[int]) -> Any:
    import torch

    with torch.no_grad():
        return torch.log_softmax(model(torch.tensor([ids])).logits[0].double(), -1)


def reference(model: Any, tok: Any, prompt: str, labels: Sequence[str], add_special: bool = True) -> dict[str, float]:
    """Straight from the definition: each spelling ("L" and " L") tokenized after the prompt, its token
    log-probabilities summed from one unbatched forward pass, spellings added, labels renormalised."""
    p_ids = tok(prompt, add_special_tokens=add_special)["input_ids"]
    mass = {}
    for lab in labels:
        total = 0.0
        for s in (lab, " " + lab):
            full = tok(prompt + s, add_special_tokens=add_special)["input_ids"]
            assert full[:len(p_ids)] == p_ids
            cont = full[len(p_ids):]
            lp = direct_logprobs(model, p_ids + cont)
            total += math.exp(sum(float(lp[len(p_ids) - 1 + j, t]) for j, t in enumerate(cont)))
        mass[lab] = total
    z = sum(mass.values())
    return {lab: m / z for lab, m in mass.items()}


def test_single_token_labels_equal_a_direct_softmax_over_the_vocabulary(tiny, tmp_path) -> None:
    import torch

    tok, base, folder, _ = tiny
    labels = ("False", "France")  # the same first letter, but distinct first tokens: accepted
    model, preds = score(folder, write_suite(tmp_path / "s", labels))
    assert model.describe()["scoring"] == "first-token-exact"
    for p, text in zip(preds, TEXTS):
        ids = tok(text + SEP)["input_ids"]
        with torch.no_grad():
            probs = torch.softmax(base(torch.tensor([ids])).logits[0, -1].double(), -1)
        mass = {lab: sum(float(probs[tok.convert_tokens_to_ids(t)]) for t in (lab, "Ġ" + lab)) for lab in labels}
        z = sum(mass.values())
        assert p.probs == pytest.approx({lab: m / z for lab, m in mass.items()}, abs=1e-6)
        assert p.extra["label_mass"] == pytest.approx(z, rel=1e-5)
        top = int(torch.argmax(probs))
        label_ids = {tok.convert_tokens_to_ids(t) for lab in labels for t in (lab, "Ġ" + lab)}
        assert (p.status == "ok") == (top in label_ids)  # an output that is no label's token is invalid
        assert p.output == tok.decode([top])


def test_multi_token_labels_are_scored_by_their_summed_token_logprobs(tiny, tmp_path) -> None:
    tok, base, folder, _ = tiny
    labels = ("New York", "Boston", "negative", "neutral")  # negative/neutral share their first tokens
    assert tok.tokenize("negative")[0] == tok.tokenize("neutral")[0]
    model, preds = score(folder, write_suite(tmp_path / "s", labels))
    assert model.describe()["scoring"] == "full-sequence-exact"
    for p, text in zip(preds, TEXTS):
        assert p.probs == pytest.approx(reference(base, tok, text + SEP, labels), abs=1e-6)
        assert p.extra["spelling_logprobs"]["New York"] < 0


def test_without_a_shareable_prompt_cache_each_continuation_is_scored_with_its_prompt(tiny, tmp_path,
                                                                                     monkeypatch) -> None:
    from harness_plugins.providers.hf import model as hf_model

    tok, base, folder, _ = tiny
    labels = ("New York", "Boston")
    root = write_suite(tmp_path / "s", labels)

    def unsupported(*args, **kwargs):
        raise AttributeError("'HybridCache' object has no attribute 'batch_select_indices'")

    monkeypatch.setattr(hf_model, "score_prefixed", unsupported)
    model, preds = score(folder, root, batch_size=3)
    assert "not shared" in " ".join(model.describe()["notes"])
    for p, text in zip(preds, TEXTS):
        assert p.probs == pytest.approx(reference(base, tok, text + SEP, labels), abs=1e-6)


@pytest.mark.parametrize("batch_size", [1, 2, 5, 64])
def test_batching_and_left_padding_do_not_change_results(tiny, tmp_path, batch_size) -> None:
    _, _, folder, _ = tiny
    root = write_suite(tmp_path / "s", ("New York", "Boston", "False"))
    _, alone = score(folder, root, batch_size=1)
    _, batched = score(folder, root, batch_size=batch_size)
    for a, b in zip(alone, batched):
        assert b.probs == pytest.approx(a.probs, abs=1e-5)
        assert (a.label, a.output) == (b.label, b.output)


def test_chat_models_get_their_chat_template(tiny, tmp_path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _, _, _, chat = tiny
    labels = ("yes", "no")
    model, preds = score(chat, write_suite(tmp_path / "s", labels))
    assert model.describe()["prompt"] == "chat template"
    lm = AutoModelForCausalLM.from_pretrained(chat, local_files_only=True, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(chat, local_files_only=True)
    for p, text in zip(preds, TEXTS):
        prompt = tok.apply_chat_template([{"role": "user", "content": text + SEP}], add_generation_prompt=True,
                                         tokenize=False)
        assert prompt.endswith("assistant:\n")
        assert p.probs == pytest.approx(reference(lm, tok, prompt, labels, add_special=False), abs=1e-6)
    _, plain = score(chat, tmp_path / "s", chat=False)  # the completion-style prompt instead
    assert plain[0].probs != pytest.approx(preds[0].probs, abs=1e-6)


def test_a_checkpoint_sweep_scores_every_checkpoint_in_step_order_with_its_curve(tiny, run_dir, tmp_path) -> None:
    suite = write_suite(tmp_path / "s", ("False", "France"))
    out = tmp_path / "out"
    code = main(["run", str(suite), "--model", f"run=hf-checkpoints:{run_dir}", "--only", "--out", str(out),
                 "--progress", "off"])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    names = [m["name"] for m in results["models"]]
    assert names == ["run/base", "run/checkpoint-2", "run/checkpoint-4", "run/checkpoint-10", "run/final"]
    assert [m["info"]["role"] for m in results["models"]] == ["base", "checkpoint", "checkpoint", "checkpoint",
                                                              "finetuned"]
    assert all(m["info"]["scoring"] == "first-token-exact" for m in results["models"])
    training = results["training"]["run"]
    assert training["kind"] == "hf-checkpoints" and training["base_model"] == "run/base"
    assert [c["step"] for c in training["checkpoints"]] == [2, 4, 10, 10]
    assert [c["epoch"] for c in training["checkpoints"]] == pytest.approx([0.2, 0.4, 1.0, 1.0])
    curves = training["curves"]
    assert curves["step"] == [2, 4, 10]
    assert curves["train_loss"] == pytest.approx([1.0, 0.5, 0.2])
    assert curves["valid_loss"] == pytest.approx([1.25, 0.625, 0.25])
    assert curves["valid_accuracy"] == pytest.approx([0.52, 0.54, 0.6])
    assert "eval_runtime" not in curves and "valid_runtime" not in curves
    assert training["checkpoints"][1]["metrics"]["valid_loss"] == pytest.approx(0.625)
    # the final model is the last checkpoint's weights: the same numbers
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    by = {}
    for r in rows:
        by.setdefault(r["model"], []).append(r["probs"])
    for a, b in zip(by["run/checkpoint-10"], by["run/final"]):
        assert a == pytest.approx(b, abs=1e-9)
    assert by["run/base"][0] != pytest.approx(by["run/final"][0], abs=1e-6)
    html = (out / "report.html").read_text()
    assert "checkpoint-10" in html and "first-token-exact" in html


def test_a_sweep_without_a_base_reference_says_so(tiny, tmp_path) -> None:
    import tinylm

    tok, base, _, _ = tiny
    run = tinylm.make_run(tmp_path / "r", tok, base, steps=(3,), final=False)
    cfg = json.loads((run / "checkpoint-3" / "config.json").read_text())
    cfg.pop("_name_or_path")
    (run / "checkpoint-3" / "config.json").write_text(json.dumps(cfg))
    suite = load_suite(write_suite(tmp_path / "s", ("False", "France")))
    spec = ModelSpec("r", "hf-checkpoints", str(run), {}, origin="--model")
    resolved = load_registry(entry_points=False).providers["hf-checkpoints"].resolve(spec, suite)
    assert [m.name for m in resolved.models] == ["r/checkpoint-3"]
    notes = " ".join(resolved.training["notes"])
    assert "names no base model" in notes and "no final model" in notes
    with_base = load_registry(entry_points=False).providers["hf-checkpoints"].resolve(
        ModelSpec("r", "hf-checkpoints", str(run), {"base": str(tmp_path / "r" / "base")}), suite)
    assert [m.name for m in with_base.models] == ["r/base", "r/checkpoint-3"]


def _one_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("remove, message", [
    ("config.json", "no config.json"),
    ("model.safetensors", "without weights"),
    ("tokenizer.json", "without a tokenizer"),
])
def test_a_model_folder_with_a_missing_file_is_a_one_line_error(tiny, tmp_path, capsys, remove, message) -> None:
    import shutil

    _, _, folder, _ = tiny
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    (broken / remove).unlink()
    if remove == "tokenizer.json":
        (broken / "tokenizer_config.json").unlink()
    suite = write_suite(tmp_path / "s", ("False", "France"))
    code = main(["run", str(suite), "--model", f"m=hf:{broken}", "--only", "--out", str(tmp_path / "o"),
                 "--progress", "off"])
    line = _one_line(capsys.readouterr().err)
    assert code == 2 and message in line and str(broken) in line


def test_asking_for_a_chat_template_the_tokenizer_lacks_is_a_one_line_error(tiny, tmp_path, capsys) -> None:
    _, _, folder, _ = tiny
    suite = write_suite(tmp_path / "s", ("False", "France"))
    code = main(["run", str(suite), "--model", f"m=hf:{folder}", "--option", "m.chat=true", "--only",
                 "--out", str(tmp_path / "o"), "--progress", "off"])
    line = _one_line(capsys.readouterr().err)
    assert code == 2 and "no chat template" in line


def test_labels_with_identical_tokens_are_refused_before_loading(tiny, tmp_path, capsys) -> None:
    _, _, folder, _ = tiny
    suite = write_suite(tmp_path / "s", ("Yes", "yes"))
    code = main(["run", str(suite), "--model", f"m=hf:{folder}", "--option", "m.case_insensitive=true", "--only",
                 "--out", str(tmp_path / "o"), "--progress", "off"])
    line = _one_line(capsys.readouterr().err)
    assert code == 2 and "'Yes' and 'yes'" in line


def test_a_peft_adapter_loads_on_its_base_model(tiny, tmp_path) -> None:
    peft = pytest.importorskip("peft", reason="peft is not installed (pip install -e '.[peft]')")
    import torch

    tok, base, folder, _ = tiny
    from transformers import AutoModelForCausalLM

    lm = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32)
    cfg = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    adapted = peft.get_peft_model(lm, cfg)
    adapter = tmp_path / "adapter"
    adapted.save_pretrained(adapter)
    meta = json.loads((adapter / "adapter_config.json").read_text())
    assert meta["base_model_name_or_path"] == str(folder)
    labels = ("False", "France")
    root = write_suite(tmp_path / "s", labels)
    model, preds = score(adapter, root)
    assert model.describe()["kind"] == "adapter" and model.describe()["base_model"] == str(folder)
    adapted.eval()
    for p, text in zip(preds, TEXTS):
        assert p.probs == pytest.approx(reference(adapted, tok, text + SEP, labels), abs=1e-6)
    _, base_preds = score(folder, root)
    assert base_preds[0].probs != pytest.approx(preds[0].probs, abs=1e-6)
    multi = ("New York", "Boston")  # whole labels through the adapter too (the prompt's cache shared)
    _, preds = score(adapter, write_suite(tmp_path / "m", multi))
    for p, text in zip(preds, TEXTS):
        assert p.probs == pytest.approx(reference(adapted, tok, text + SEP, multi), abs=1e-6)
    # an adapter whose base model is not on this machine: a clear error, no download
    meta["base_model_name_or_path"] = "some-org/not-here"
    (adapter / "adapter_config.json").write_text(json.dumps(meta))
    from harness.errors import InputError

    with pytest.raises(InputError, match="'some-org/not-here' is not available locally"):
        score(adapter, root)


def test_a_checkpoint_that_cannot_be_loaded_fails_alone_and_the_others_are_kept(tiny, tmp_path, capsys) -> None:
    import tinylm

    tok, base, _, _ = tiny
    run = tinylm.make_run(tmp_path / "r", tok, base, steps=(1, 2))
    (run / "checkpoint-1" / "model.safetensors").write_bytes(b"not a safetensors file")
    suite = write_suite(tmp_path / "s", ("False", "France"))
    out = tmp_path / "out"
    code = main(["run", str(suite), "--model", f"run=hf-checkpoints:{run}", "--only", "--out", str(out),
                 "--progress", "off", "--no-report"])
    assert code == 3
    models = {m["name"]: m for m in json.loads((out / "results.json").read_text())["models"]}
    assert "cannot load the model" in models["run/checkpoint-1"]["error"]
    assert models["run/checkpoint-2"]["metrics"]["accuracy"]["value"] is not None
    assert "error" not in models["run/final"] and "error" not in models["run/base"]


def test_a_sweep_of_lora_checkpoints_loads_each_adapter_on_the_runs_base(tiny, tmp_path) -> None:
    peft = pytest.importorskip("peft", reason="peft is not installed (pip install -e '.[peft]')")
    import torch
    from transformers import AutoModelForCausalLM

    tok, base, folder, _ = tiny
    lm = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32)
    adapted = peft.get_peft_model(lm, peft.LoraConfig(r=2, target_modules=["q_proj"], init_lora_weights=False))
    run = tmp_path / "lora-run"
    for step in (5, 10):
        with torch.no_grad():
            for name, p in adapted.named_parameters():
                if "lora_" in name:
                    p.add_(0.1 * step)
        adapted.save_pretrained(run / f"checkpoint-{step}")
    labels = ("False", "France")
    suite = load_suite(write_suite(tmp_path / "s", labels))
    resolved = load_registry(entry_points=False).providers["hf-checkpoints"].resolve(
        ModelSpec("lora", "hf-checkpoints", str(run), {}), suite)
    assert [m.name for m in resolved.models] == ["lora/base", "lora/checkpoint-5", "lora/checkpoint-10"]
    assert resolved.training["base_model"] == "lora/base"
    assert "no trainer_state.json" in " ".join(resolved.training["notes"])
    ckpt = resolved.models[-1]
    assert ckpt.describe()["kind"] == "adapter" and ckpt.describe()["base_model"] == str(folder)
    preds = ckpt.predict_all(suite.heldout.examples)
    adapted.eval()  # holds the last checkpoint's weights
    for p, text in zip(preds, TEXTS):
        assert p.probs == pytest.approx(reference(adapted, tok, text + SEP, labels), abs=1e-6)
