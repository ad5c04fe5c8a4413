"""Finding and loading a local causal language model, its tokenizer, or a PEFT/LoRA adapter on its base model.

Everything is read from local folders (``local_files_only``): a base model named by a hub id is used only when it
is already in the local Hugging Face cache. Model folders are checked file by file before anything is loaded,
so a missing file is a one-line error naming it. No code from a model folder is ever run
(``trust_remote_code`` stays off).
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputError, ProviderError, UsageError

CONFIG = "config.json"
ADAPTER_CONFIG = "adapter_config.json"
WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")
INSTALL = ("install PyTorch for your machine first (CPU only: pip install torch --index-url "
           "https://download.pytorch.org/whl/cpu), then pip install 'harness-eval[hf]'")


def require_backend(peft: bool = False) -> None:
    """torch and transformers (and peft for an adapter) must be importable: a one-line error otherwise."""
    missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"the hf provider needs {' and '.join(missing)}: {INSTALL}")
    if peft and importlib.util.find_spec("peft") is None:
        raise UsageError("this folder holds a PEFT/LoRA adapter, which needs the peft library: "
                         "pip install 'harness-eval[peft]'")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: everything is loaded with local_files_only


def _read_json(path: Path, field: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not readable JSON ({' '.join(str(exc).split())})", file=path, field=field) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", file=path, field=field)
    return data


@dataclass
class Folder:
    """A checked model folder: a full model, or an adapter that needs a base model."""

    path: Path
    kind: str  # "model" | "adapter"
    base_ref: str | None  # the base model it names (adapter_config.json, or config.json's _name_or_path)
    has_tokenizer: bool

    @property
    def is_adapter(self) -> bool:
        return self.kind == "adapter"


def is_model_folder(path: Path) -> bool:
    return path.is_dir() and ((path / CONFIG).is_file() or (path / ADAPTER_CONFIG).is_file())


def inspect_folder(path: Path, field: str) -> Folder:
    """Check a folder's files (config, weights, tokenizer) without loading anything."""
    if not path.exists():
        raise InputError("no such model folder", file=path, field=field)
    if not path.is_dir():
        raise InputError("not a folder: hf takes a model folder (config.json, weights, tokenizer files)",
                         file=path, field=field)
    has_tok = any((path / f).is_file() for f in TOKENIZER_FILES)
    if (path / ADAPTER_CONFIG).is_file():
        cfg = _read_json(path / ADAPTER_CONFIG, field)
        if not any((path / f).is_file() for f in ADAPTER_WEIGHTS):
            raise InputError(f"adapter folder without weights: expected {' or '.join(ADAPTER_WEIGHTS)}",
                             file=path, field=field)
        base = cfg.get("base_model_name_or_path")
        return Folder(path, "adapter", str(base) if base else None, has_tok)
    if not (path / CONFIG).is_file():
        raise InputError(f"not a model folder: no {CONFIG} (nor {ADAPTER_CONFIG})", file=path, field=field)
    cfg = _read_json(path / CONFIG, field)
    if not any((path / f).is_file() for f in WEIGHTS) and not list(path.glob("model-*.safetensors")):
        raise InputError(f"model folder without weights: expected {' or '.join(WEIGHTS[::2])}", file=path,
                         field=field)
    if not has_tok:
        raise InputError(f"model folder without a tokenizer: expected {' or '.join(TOKENIZER_FILES[:2])}",
                         file=path, field=field)
    ref = cfg.get("_name_or_path")
    return Folder(path, "model", str(ref) if ref and str(ref) != str(path) else None, has_tok)


def find_base(ref: str, relative_to: Path | None) -> Path | None:
    """A base model reference → a local folder: as given, relative to ``relative_to``, or the snapshot of a hub id
    already in the local Hugging Face cache. None when it is not available locally."""
    for cand in (Path(ref).expanduser(), (relative_to / ref) if relative_to is not None else None):
        if cand is not None and is_model_folder(cand):
            return cand
    if "/" in ref and not ref.startswith((".", "/", "~")) and importlib.util.find_spec("huggingface_hub"):
        from huggingface_hub import try_to_load_from_cache

        try:
            hit = try_to_load_from_cache(ref, CONFIG)
        except Exception:  # an invalid repo id
            return None
        if isinstance(hit, str):
            return Path(hit).parent
    return None


def pick_device(setting: str) -> str:
    import torch

    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"device {setting}: no CUDA device is available here (use device: cpu)")
    if setting == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UsageError("device mps: no Apple GPU is available here (use device: cpu)")
    return setting


def torch_dtype(setting: str, device: str) -> Any:
    import torch

    if setting == "auto":
        return torch.float32 if device == "cpu" else "auto"
    return getattr(torch, setting)


def quiet_transformers() -> None:
    """No progress bars or advisory warnings on the run's console."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def load_tokenizer(path: Path, field: str) -> Any:
    from transformers import AutoTokenizer

    quiet_transformers()
    try:
        return AutoTokenizer.from_pretrained(str(path), local_files_only=True, trust_remote_code=False)
    except Exception as exc:  # transformers raises OSError, ValueError, ImportError... for unusable folders
        raise InputError(f"cannot load the tokenizer: {_short(exc)}", file=path, field=field) from None


def load_model(folder: Folder, base: Path | None, dtype: str, device: str) -> Any:
    """The model in eval mode on ``device`` (an adapter on top of ``base``). Loaded when the model is scored: a
    failure stops this model only (:class:`ProviderError`), the others' results are kept."""
    from transformers import AutoModelForCausalLM

    quiet_transformers()
    target = base if folder.is_adapter else folder.path
    try:
        model = AutoModelForCausalLM.from_pretrained(str(target), local_files_only=True, trust_remote_code=False,
                                                     dtype=torch_dtype(dtype, device))
    except Exception as exc:  # unreadable weights, an architecture this transformers does not know, ...
        raise ProviderError(f"{target}: cannot load the model: {_short(exc)}") from None
    if folder.is_adapter:
        from peft import PeftModel

        try:
            model = PeftModel.from_pretrained(model, str(folder.path), is_trainable=False)
        except Exception as exc:
            raise ProviderError(f"{folder.path}: cannot load the adapter on {base}: {_short(exc)}") from None
    try:
        model.to(device)
    except Exception as exc:  # out of GPU memory
        raise ProviderError(f"{target}: cannot move the model to {device}: {_short(exc)}") from None
    model.eval()
    return model


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
