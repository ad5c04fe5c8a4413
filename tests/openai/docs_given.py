"""What the documented commands (README.md, docs/*.md) take as given, built for tests/openai/test_docs_commands.py.

A user's suite ``suites/my-suite`` (a copy of the bundled baseball-hockey data with two demo models, ``base`` and
``finetuned``; ``harness run my-suite`` finds it there, as the README says), a scikit-learn model file and a
predictions file for the Quickstart, a rules file ``gate.yaml`` for docs/ci.md, earlier runs (``runs/bh``,
``harness-runs/my-suite``, the stored baseline ``baselines/prod``) made only when a block reads one without
making it, and, for the open-model examples, tiny local model folders built as tests/hf/tinylm.py builds them:
an instruct model with a chat template (``Qwen2.5-0.5B-Instruct``), a fine-tune of it (``my-finetune``), a LoRA
adapter on it (``my-lora-adapter``) and Trainer runs (``outputs/run``, ``outputs/my-run``).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import yaml

HF_DIR = Path(__file__).resolve().parents[1] / "hf"
HF_MISSING = [m for m in ("torch", "transformers", "tokenizers") if importlib.util.find_spec(m) is None]
PEFT_MISSING = importlib.util.find_spec("peft") is None
HF_MODEL = re.compile(r"=hf(-checkpoints)?:")

#: The instruct model the examples name, and where the other folders' base model is found.
INSTRUCT = "Qwen2.5-0.5B-Instruct"
GATE_RULES = {"candidate": "finetuned", "against": "base",
              "rules": [{"kind": "regression", "metric": "accuracy", "max_drop": 0.01},
                        {"kind": "regression", "metric": "auroc"},
                        {"kind": "health", "max_failed": 0.01, "max_invalid": 0.05}]}

#: Runs the examples read as made earlier → the command that makes them (fewer resamples: it is set-up).
EARLIER_RUNS = {
    "runs/bh": ["run", "baseball-hockey", "--out", "runs/bh", "--bootstrap", "50", "--no-report"],
    "harness-runs/my-suite": ["run", "my-suite", "--bootstrap", "50"],
    "baselines/prod": ["run", "my-suite", "--out", "baselines/prod", "--bootstrap", "50", "--no-report"],
}


def why_skip(block: str) -> str | None:
    """Why a block cannot run in this environment (the hf extra, or peft, not installed), or None."""
    if HF_MODEL.search(block) and HF_MISSING:
        return (f"the hf extra is not installed (missing {', '.join(HF_MISSING)}): pip install torch==2.13.0 (CPU "
                "build) and pip install -e '.[hf,peft]' to run the open-model examples")
    if "my-lora-adapter" in block and PEFT_MISSING:
        return "peft is not installed (pip install -e '.[peft]'): the LoRA adapter example needs it"
    return None


def make_my_suite(work: Path, bundled: Path) -> Path:
    """``suites/my-suite``: the baseball-hockey data, two demo models and their baseline."""
    suite = work / "suites" / "my-suite"
    suite.mkdir(parents=True)
    for name in ("heldout.jsonl", "train.jsonl"):
        shutil.copy(bundled / name, suite / name)
    doc = yaml.safe_load((bundled / "suite.yaml").read_text(encoding="utf-8"))
    doc.update(name="my-suite", models={"base": "demo:base", "finetuned": "demo:finetuned"}, baseline="base")
    for key in ("comparisons", "gate"):
        doc.pop(key, None)
    (suite / "suite.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    (work / "gate.yaml").write_text(yaml.safe_dump(GATE_RULES, sort_keys=False), encoding="utf-8")
    return suite


def earlier_runs(script: str) -> list[list[str]]:
    """The runs a script reads without making them itself (``--out PATH`` in the script makes PATH)."""
    return [argv for path, argv in EARLIER_RUNS.items()
            if re.search(rf"(?<![\w/.-]){re.escape(path)}(?![\w-])", script)
            and not re.search(rf"--out {re.escape(path)}(?![\w/-])", script)]


def build_hf_models(root: Path, bundled: Path) -> Path:
    """The local model folders the open-model examples name, under ``root`` (built once per session). The
    tokenizer is trained on the suite's training prompts, so prompts are short and the labels single tokens (as
    they are for real models): the examples run in seconds."""
    sys.path.insert(0, str(HF_DIR))
    import tinylm

    train = [json.loads(line)["prompt"] for line in (bundled / "train.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    words = ["baseball", "hockey", "a baseball", "a hockey"] * 50
    tok = tinylm.make_tokenizer(1000, [*tinylm.SENTENCES, *train, *words])
    instruct = tinylm.nudge(tinylm.make_model(len(tok), seed=1), 7)
    tinylm.save(instruct, tok, root / INSTRUCT, chat=True)
    tinylm.save(tinylm.nudge(instruct, 11), tok, root / "my-finetune", chat=True)
    outputs = root / "outputs"
    run = tinylm.make_run(outputs, tok, tinylm.make_model(len(tok), seed=2), steps=(2, 4))
    shutil.copytree(run, outputs / "my-run")
    if not PEFT_MISSING:
        _lora_adapter(root / INSTRUCT, root / "my-lora-adapter")
    return root


def _lora_adapter(base: Path, out: Path) -> None:
    """A LoRA adapter trained (here: randomly initialised) on the instruct model loaded from ``./{INSTRUCT}``, so
    its adapter_config.json names that folder, as PEFT writes it."""
    import peft
    import torch
    from transformers import AutoModelForCausalLM

    lm = AutoModelForCausalLM.from_pretrained(base, local_files_only=True, dtype=torch.float32)
    adapted = peft.get_peft_model(lm, peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                                      init_lora_weights=False))
    adapted.save_pretrained(out)
    meta = json.loads((out / "adapter_config.json").read_text())
    meta["base_model_name_or_path"] = f"./{INSTRUCT}"  # what PEFT records when the base was loaded from there
    (out / "adapter_config.json").write_text(json.dumps(meta))


def link_hf_models(built: Path, work: Path) -> None:
    """The model folders, in the working folder under the names the examples use."""
    for entry in built.iterdir():
        (work / entry.name).symlink_to(entry, target_is_directory=True)
