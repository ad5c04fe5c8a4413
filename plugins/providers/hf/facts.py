"""What the ``hf`` and ``hf-checkpoints`` providers know about a model folder offline (``Provider.model_facts``),
for the data checks of ``harness validate`` and of a run before it scores anything: the folder's own tokenizer
(loaded as the provider loads it, from local files only), the context window from its ``config.json``, whether
the chat template formats the prompt, and the scoring method — whole labels (``full``): the provider scores every
spelling by its own tokens, so labels may share a first token, only whole spellings must differ. Nothing is
downloaded and no model weights are loaded; torch is not needed, transformers is."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import ExampleFailure, InputError, UsageError
from harness.examples import Example
from harness.providers import ModelFacts, ModelSpec

from .loading import CONFIG, INSTALL, Folder, find_base, inspect_folder
from .options import HFOptions
from .specs import NO_BASE, _field, _spellings

#: config.json keys that hold the context window, in order of preference (GPT-2 style models use n_positions).
WINDOW_KEYS = ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx")
#: Multimodal and composite configs keep the language model's settings in a sub-config.
SUB_CONFIGS = ("text_config", "llm_config", "language_config")


def context_window(config: dict[str, Any]) -> int | None:
    """The context window a model's config.json states, or None when it states none."""
    for key in WINDOW_KEYS:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    for key in SUB_CONFIGS:
        sub = config.get(key)
        if isinstance(sub, dict):
            window = context_window(sub)
            if window is not None:
                return window
    return None


class FolderTokenizer:
    """A model folder's transformers tokenizer, as the data checks use it (``harness.providers.TextTokenizer``)."""

    def __init__(self, tokenizer: Any, name: str) -> None:
        self._tok = tokenizer
        self.name = name

    def encode(self, text: str) -> list[int]:
        return list(self._tok(text, add_special_tokens=False)["input_ids"])

    def decode(self, ids: Sequence[int]) -> str:
        return str(self._tok.decode(list(ids)))


def _adapter_base(folder: Folder, opts: HFOptions, suite: Any, field: str) -> Path:
    """An adapter's base model folder, found as the provider finds it (local only)."""
    ref = opts.base if opts.base and opts.base != NO_BASE else folder.base_ref
    if not ref:
        raise InputError("this adapter names no base model (base_model_name_or_path): set the option base to the "
                         "base model's folder", file=folder.path, field=field)
    root = getattr(suite, "root", None)
    base = find_base(ref, folder.path) or (find_base(ref, root) if root is not None else None)
    if base is None:
        raise InputError(f"the adapter's base model {ref!r} is not available locally (nothing is downloaded at run "
                         "time): set the option base to its folder", file=folder.path, field=field)
    return base


def folder_facts(spec: ModelSpec, opts: HFOptions, suite: Any, path: Path, what: str) -> ModelFacts:
    """The facts of the model in ``path`` (a model or adapter folder) for the spec ``spec``."""
    from .loading import load_tokenizer
    from .model import prompt_text

    field = _field(spec)
    folder = inspect_folder(path, field)
    if importlib.util.find_spec("transformers") is None:
        raise UsageError(f"the hf provider needs transformers: {INSTALL}")
    base = _adapter_base(folder, opts, suite, field) if folder.is_adapter else None
    tok_folder = folder.path if folder.has_tokenizer or base is None else base
    tokenizer = load_tokenizer(tok_folder, field)
    template = getattr(tokenizer, "chat_template", None)
    if opts.chat and not template:
        raise InputError("option chat: true, but the tokenizer has no chat template (set chat: false to use the "
                         "completion-style prompt)", file=tok_folder, field=field)
    use_chat = bool(template) if opts.chat is None else opts.chat
    config_folder = base if base is not None else folder.path
    window = _window(config_folder / CONFIG)
    spellings = _spellings(spec, tuple(suite.labels), opts)
    tok = FolderTokenizer(tokenizer, f"the tokenizer of {tok_folder}")
    longest = max((len(tok.encode(s)) for forms in spellings.values() for s in forms), default=1)
    kwargs = dict(opts.chat_template_kwargs)

    def prompt_tokens(example: Example) -> int:
        try:
            text = prompt_text(tokenizer, use_chat, example, kwargs)
        except ExampleFailure:  # the run fails this example with the template's reason: not a length problem
            return 0
        return len(tokenizer(text, add_special_tokens=not use_chat)["input_ids"])

    return ModelFacts(model=what, tokenizer=tok, context_window=window, output_tokens=longest, chat=use_chat,
                      prompt_tokens=prompt_tokens, scoring="full")


def _window(config: Path) -> int | None:
    import json

    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):  # inspect_folder checked it exists; unreadable: unknown
        return None
    return context_window(data) if isinstance(data, dict) else None


def hf_facts(spec: ModelSpec, opts: HFOptions, suite: Any, path: Path) -> ModelFacts:
    return folder_facts(spec, opts, suite, path, str(spec.argument.strip()))


def checkpoints_facts(spec: ModelSpec, opts: HFOptions, suite: Any, path: Path) -> ModelFacts:
    """A Trainer run's facts, from its final model (else its last checkpoint): the checkpoints of one run share
    the tokenizer and the architecture."""
    from .checkpoints import find_run
    run = find_run(path, _field(spec))
    if run.final is not None:
        return folder_facts(spec, opts, suite, run.final, f"{spec.argument.strip()} (final model)")
    step, folder = run.checkpoints[-1]
    return folder_facts(spec, opts, suite, folder, f"{spec.argument.strip()} (checkpoint-{step})")
