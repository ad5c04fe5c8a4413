"""One local causal language model scored as a classifier.

For each example the prompt is built (the tokenizer's chat template on the example's messages, or the
completion-style prompt), and every spelling of every label (``hockey``, `` hockey``; case forms with
``case_insensitive``) is tokenized as its continuation. When every continuation is a single token, one forward
pass per example gives the whole-vocabulary distribution after the prompt and each label's probability is
exact (``first-token-exact``); otherwise every continuation is scored by the summed log-probabilities of its
tokens (``full-sequence-exact``). Labels are then renormalised (label_scoring). The output is the most likely
token after the prompt; when it begins no label's continuation, the output is invalid (probabilities kept).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import ExampleFailure
from harness.examples import Example, Prediction
from harness.providers import LocalModel, ModelSpec

from ..label_scoring import FIRST_TOKEN_EXACT, FULL_SEQUENCE_EXACT, exact_scores
from .loading import Folder, load_model, pick_device
from .options import HFOptions
from .scoring import Forward, Prefixed, Scored, Seq, score, score_prefixed

#: One local model in memory at a time: a checkpoint sweep's models are scored one after another.
_LOCK = threading.Lock()


def prompt_text(tokenizer: Any, use_chat: bool, ex: Example, template_kwargs: dict[str, Any]) -> str:
    """The text the model reads for an example: its chat messages formatted by the tokenizer's chat template
    (generation prompt included), or its completion-style prompt. Raises :class:`ExampleFailure` when the
    template rejects the example."""
    if not use_chat:
        return ex.prompt
    if not ex.messages:
        raise ExampleFailure("the example has no chat messages for the chat template")
    try:
        return str(tokenizer.apply_chat_template([dict(m) for m in ex.messages], add_generation_prompt=True,
                                                 tokenize=False, **template_kwargs))
    except Exception as exc:  # a template that rejects these messages (e.g. no system role)
        raise ExampleFailure(f"the chat template failed: {' '.join(str(exc).split())[:200]}") from None


class HFModel(LocalModel):
    def __init__(self, name: str, spec: ModelSpec, *, folder: Folder, base: Path | None, options: HFOptions,
                 labels: Sequence[str], spellings: dict[str, list[str]], tokenizer: Any, field: str,
                 info: dict[str, Any] | None = None) -> None:
        super().__init__(name, spec)
        self.folder = folder
        self.base = base
        self.options = options
        self.labels = tuple(labels)
        self.spellings = spellings
        self.tokenizer = tokenizer
        self.field = field
        self.info = dict(info or {})
        self.use_chat = bool(getattr(tokenizer, "chat_template", None)) if options.chat is None else options.chat
        self.method: str | None = None  # known once scored
        self.device: str | None = None
        self.notes: list[str] = []
        self.no_prefix_cache = False  # set when the model cannot share a prompt's cache between continuations

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": str(self.folder.path), "kind": self.folder.kind,
                               "scoring": self.method or "not scored",
                               "prompt": "chat template" if self.use_chat else "completion prompt",
                               "tokenizer": "the model's own", "batch_size": self.options.batch_size,
                               "dtype": self.options.dtype, "device": self.device or self.options.device,
                               "case_insensitive": self.options.case_insensitive}
        if self.base is not None:
            out["base_model"] = str(self.base)
        if self.notes:
            out["notes"] = list(self.notes)
        out.update(self.info)
        return out

    # --- prompts ------------------------------------------------------------------------------------

    def prompt_text(self, ex: Example) -> str:
        return prompt_text(self.tokenizer, self.use_chat, ex, self.options.chat_template_kwargs)

    def encode(self, texts: list[str]) -> list[list[int]]:
        return [list(ids) for ids in self.tokenizer(texts, add_special_tokens=not self.use_chat)["input_ids"]]

    def continuations(self, texts: list[str], prompts: list[list[int]]) -> list[dict[str, tuple[int, ...]]]:
        """Per example: spelling → its token ids as a continuation of the prompt (tokenized together with the
        prompt, so the boundary is the model's own; alone when joint tokenization changes the prompt)."""
        out: list[dict[str, tuple[int, ...]]] = [{} for _ in texts]
        alone: dict[str, tuple[int, ...]] = {}
        for forms in self.spellings.values():
            for s in forms:
                joint = self.encode([t + s for t in texts])
                for i, (full, prompt) in enumerate(zip(joint, prompts)):
                    if len(full) > len(prompt) and full[:len(prompt)] == prompt:
                        out[i][s] = tuple(full[len(prompt):])
                    else:
                        if s not in alone:
                            alone[s] = tuple(self.tokenizer(s, add_special_tokens=False)["input_ids"])
                        out[i][s] = alone[s]
        return out

    # --- scoring ------------------------------------------------------------------------------------

    def predict_all(self, examples: Sequence[Example]) -> list[Prediction]:
        with _LOCK:
            self.device = self.device or pick_device(self.options.device)
            model = load_model(self.folder, self.base, self.options.dtype, self.device)
            try:
                return self.score_with(model, examples)
            finally:
                del model
                gc.collect()
                if self.device.startswith("cuda"):
                    import torch

                    torch.cuda.empty_cache()

    def score_with(self, model: Any, examples: Sequence[Example]) -> list[Prediction]:
        failed: dict[int, str] = {}
        texts: list[str] = []
        for i, ex in enumerate(examples):
            try:
                texts.append(self.prompt_text(ex))
            except ExampleFailure as exc:
                failed[i] = exc.reason
                texts.append("")
        prompts = self.encode(texts)
        conts = self.continuations(texts, prompts)
        limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
        for i, ids in enumerate(prompts):
            longest = len(ids) + max(len(c) for c in conts[i].values())
            if i not in failed and not ids:
                failed[i] = "the prompt is empty: no position to predict the label from"
            elif i not in failed and isinstance(limit, int) and longest > limit:
                failed[i] = f"prompt too long for the model's context window ({longest} tokens > {limit})"
        single = all(len(c) == 1 for i, cs in enumerate(conts) if i not in failed for c in cs.values())
        self.method = FIRST_TOKEN_EXACT if single else FULL_SEQUENCE_EXACT

        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id if self.tokenizer.eos_token_id is not None else 0
        forward = Forward(model, int(pad))
        todo = [i for i in range(len(examples)) if i not in failed]
        scored = self.score_single(forward, prompts, conts, todo) if single else \
            self.score_multi(forward, prompts, conts, todo)
        preds: list[Prediction] = []
        for i, ex in enumerate(examples):
            if i in failed:
                preds.append(Prediction.failed(ex.id, failed[i]))
            else:
                first, spelling_lp = scored[i]
                preds.append(self.prediction(ex, conts[i], first, spelling_lp))
        return preds

    def score_single(self, forward: Forward, prompts: list[list[int]], conts: list[dict[str, tuple[int, ...]]],
                     todo: list[int]) -> dict[int, tuple[Scored, dict[str, float]]]:
        """Every continuation is one token: one pass per prompt, the whole vocabulary's distribution after it."""
        seqs = [Seq(list(prompts[i]), 0, sorted({c[0] for c in conts[i].values()})) for i in todo]
        results = score(forward, seqs, self.options.batch_size) if seqs else []
        return {i: (res, {s: res.first[c[0]] for s, c in conts[i].items()}) for i, res in zip(todo, results)}

    def score_multi(self, forward: Forward, prompts: list[list[int]], conts: list[dict[str, tuple[int, ...]]],
                    todo: list[int]) -> dict[int, tuple[Scored, dict[str, float]]]:
        """Whole continuations: the prompt's key/value cache shared by its continuations when the model allows it,
        else one pass over prompt + continuation each (the same numbers, more work)."""
        items = [Prefixed(list(prompts[i]), list(dict.fromkeys(conts[i].values()))) for i in todo]
        if items and not self.no_prefix_cache:
            try:
                score_prefixed(forward, items, self.options.batch_size)
            except Exception as exc:  # a model or cache type without batch_select_indices, positions, ...
                if type(exc).__name__ == "OutOfMemoryError":
                    raise
                self.no_prefix_cache = True
                self.notes.append(f"the prompt's cache is not shared between label continuations for this model "
                                  f"({type(exc).__name__}): each is scored with its prompt")
        if items and self.no_prefix_cache:
            seqs = [Seq(it.prompt + list(c), len(c)) for it in items for c in it.conts]
            results = iter(score(forward, seqs, self.options.batch_size))
            for it in items:
                scored = [next(results) for _ in it.conts]
                it.first, it.cont_logprobs = scored[0], [r.cont_logprob for r in scored]
        out = {}
        for i, it in zip(todo, items):
            lp = dict(zip(it.conts, it.cont_logprobs))
            out[i] = (it.first, {s: lp[c] for s, c in conts[i].items()})
        return out

    def prediction(self, ex: Example, conts: dict[str, tuple[int, ...]], first: Scored,
                   spelling_lp: dict[str, float]) -> Prediction:
        owners: dict[tuple[int, ...], str] = {}
        for lab in self.labels:
            for s in self.spellings[lab]:
                other = owners.setdefault(conts[s], lab)
                if other != lab:
                    return Prediction.failed(ex.id, f"labels {other!r} and {lab!r} have the same tokens after this "
                                                    "prompt: no score can tell them apart")
        by_label: dict[str, list[float]] = {}
        for lab in self.labels:
            seen: set[tuple[int, ...]] = set()
            by_label[lab] = []
            for s in self.spellings[lab]:  # two spellings with the same tokens count once
                if conts[s] not in seen:
                    seen.add(conts[s])
                    by_label[lab].append(spelling_lp[s])
        res = exact_scores(by_label, self.labels)
        valid = first.argmax in {c[0] for c in conts.values()}
        extra: dict[str, Any] = {"off_label_mass": res.off_label_mass, "label_mass": res.label_mass,
                                 "label_logprobs": res.label_logprobs, "spelling_logprobs": spelling_lp,
                                 "output_logprob": first.argmax_logprob}
        return Prediction(example_id=ex.id, label=res.best if valid else None, probs=res.probs,
                          output=self.tokenizer.decode([first.argmax]), extra=extra)
