"""Local open models through Hugging Face transformers (optional extra ``hf``).

Providers: ``hf:PATH`` (a causal language model and its tokenizer from a local folder, or a PEFT/LoRA adapter
on its base model) and ``hf-checkpoints:RUN_DIR`` (a Trainer output folder: the base model, every
``checkpoint-N`` in step order and the final model, with the training curves of ``trainer_state.json``).
Nothing is downloaded. User documentation: docs/hf.md. torch and transformers are imported only when a model
is resolved, so loading this plugin stays cheap and works without the extra.
"""

from __future__ import annotations

from harness import hookimpl

from .providers import HFCheckpointsProvider, HFProvider

__all__ = ["HFCheckpointsProvider", "HFProvider"]


@hookimpl
def register_providers(register):
    register(HFProvider())
    register(HFCheckpointsProvider())
