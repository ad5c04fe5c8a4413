"""Tiny causal language models built locally for the hf provider's tests and benchmark: nothing is downloaded.

A byte-level BPE tokenizer is trained with the ``tokenizers`` library on a few sentences (so label words are
single tokens or known pieces), wrapped as a transformers tokenizer with a small chat template, and a Llama-style
model with random weights is built from a config. ``make_run`` writes a Trainer-like run folder: checkpoint-N
folders (weights nudged step by step), a final model in the run folder and ``trainer_state.json`` files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SENTENCES = [
    "False France negative neutral New York Boston hockey baseball yes no",
    "the capital of France is Paris and that is not False",
    "Is it True or False? It is False. France is in Europe.",
    "New York is a city; Boston is a city. The game went to overtime.",
    "goal save shot pitch home run inning period power play",
    "France", "False", "Boston", "France is big", "False alarm", "New York", "yes", "no",
]
CHAT_TEMPLATE = ("{% for m in messages %}<s>{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<s>assistant:\n{% endif %}")


def make_tokenizer(vocab_size: int = 400, sentences: Sequence[str] = SENTENCES) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(list(sentences) * 20, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")


def make_model(vocab_size: int, seed: int = 0, hidden: int = 32, layers: int = 2) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=2 * hidden,
                      num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=512, bos_token_id=1, eos_token_id=2, pad_token_id=0)
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():  # sharper than the default init, so label probabilities differ visibly
        model.lm_head.weight.mul_(40.0)
    return model.eval()


def save(model: Any, tokenizer: Any, folder: Path, chat: bool = False, name_or_path: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    if chat:
        tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    tokenizer.chat_template = None
    if name_or_path is not None:  # what transformers 4.x writes: the run's base model
        cfg = json.loads((folder / "config.json").read_text())
        cfg["_name_or_path"] = name_or_path
        (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def nudge(model: Any, seed: int, scale: float = 0.05) -> Any:
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * scale)
    return model


def log_history(steps: Sequence[int], eval_every: int = 2) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in steps:
        out.append({"epoch": s / max(steps), "grad_norm": 1.0 / s, "learning_rate": 1e-4, "loss": 2.0 / s, "step": s})
        if s % eval_every == 0:
            out.append({"epoch": s / max(steps), "eval_loss": 2.5 / s, "eval_accuracy": 0.5 + s / 100,
                        "eval_runtime": 0.1, "eval_samples_per_second": 10.0, "step": s})
    out.append({"epoch": 1.0, "step": max(steps), "total_flos": 1.0, "train_loss": 1.0, "train_runtime": 1.0})
    return out


def write_state(folder: Path, steps: Sequence[int], upto: int) -> None:
    hist = [e for e in log_history(steps) if e["step"] <= upto and ("train_runtime" not in e or upto == max(steps))]
    state = {"global_step": upto, "epoch": upto / max(steps), "max_steps": max(steps), "num_train_epochs": 1,
             "log_history": hist, "best_metric": None, "best_model_checkpoint": None}
    (folder / "trainer_state.json").write_text(json.dumps(state))


def make_run(root: Path, tokenizer: Any, base: Any, steps: Sequence[int] = (2, 4), final: bool = True) -> Path:
    """base/ plus run/checkpoint-N/ (nudged copies) and run/ (the final model), with trainer_state.json."""
    import copy

    base_dir = save(base, tokenizer, root / "base")
    run = root / "run"
    model = copy.deepcopy(base)
    for s in steps:
        nudge(model, s)
        ckpt = save(model, tokenizer, run / f"checkpoint-{s}", name_or_path=str(base_dir))
        write_state(ckpt, steps, s)
    if final:
        save(model, tokenizer, run, name_or_path=str(base_dir))
        write_state(run, steps, max(steps))
    return run
