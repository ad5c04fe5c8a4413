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
from pathlib import Path
from typing import Any, Sequence

from harness.errors import ExampleFailure
from harness.examples import Example, Prediction
from harness.providers import LocalModel, ModelSpec

from ..label_scoring import FIRST_TOKEN_EXACT, FULL_SEQUENCE_EXACT, exact_scores
from .loading import Folder, load_model, pick_device
from .options import HFOptions
from .scoring import Forward, Seq, score

#: One local model in memory at a time: a checkpoint sweep's models are scored one after another.
_LOCK = threading.Lock()


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
        if not self.use_chat:
            return ex.prompt
        if not ex.messages:
            raise ExampleFailure("the example has no chat messages for the chat template")
        try:
            return self.tokenizer.apply_chat_template([dict(m) for m in ex.messages], add_generation_prompt=True,
                                                      tokenize=False, **self.options.chat_template_kwargs)
        except Exception as exc:  # a template that rejects these messages (e.g. no system role)
            raise ExampleFailure(f"the chat template failed: {' '.join(str(exc).split())[:200]}") from None

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

        seqs: list[Seq] = []
        index: list[list[tuple[str, int]]] = [[] for _ in examples]  # per example: (spelling, seq index)
        for i, ids in enumerate(prompts):
            if i in failed:
                continue
            uniq: dict[tuple[int, ...], int] = {}
            for s, cont in conts[i].items():
                if single:
                    if not index[i]:
                        seqs.append(Seq(list(ids), 0, sorted({c[0] for c in conts[i].values()})))
                    index[i].append((s, len(seqs) - 1))
                    continue
                if cont not in uniq:
                    uniq[cont] = len(seqs)
                    seqs.append(Seq(list(ids) + list(cont), len(cont)))
                index[i].append((s, uniq[cont]))
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id if self.tokenizer.eos_token_id is not None else 0
        results = score(Forward(model, int(pad)), seqs, self.options.batch_size) if seqs else []

        preds: list[Prediction] = []
        for i, ex in enumerate(examples):
            if i in failed:
                preds.append(Prediction.failed(ex.id, failed[i]))
                continue
            preds.append(self.prediction(ex, conts[i], index[i], results, single))
        return preds

    def prediction(self, ex: Example, conts: dict[str, tuple[int, ...]], index: list[tuple[str, int]],
                   results: list[Any], single: bool) -> Prediction:
        spelling_lp: dict[str, float] = {}
        for s, k in index:
            res = results[k]
            spelling_lp[s] = res.first[conts[s][0]] if single else res.cont_logprob
        by_label: dict[str, list[float]] = {}
        for lab in self.labels:
            seen: set[tuple[int, ...]] = set()
            by_label[lab] = []
            for s in self.spellings[lab]:  # two spellings with the same tokens count once
                if conts[s] not in seen:
                    seen.add(conts[s])
                    by_label[lab].append(spelling_lp[s])
        owners = {}
        for lab in self.labels:
            for s in self.spellings[lab]:
                other = owners.setdefault(conts[s], lab)
                if other != lab:
                    return Prediction.failed(ex.id, f"labels {other!r} and {lab!r} have the same tokens after this "
                                                    "prompt: no score can tell them apart")
        res = exact_scores(by_label, self.labels)
        first = results[index[0][1]]
        valid = first.argmax in {c[0] for c in conts.values()}
        output = self.tokenizer.decode([first.argmax])
        extra: dict[str, Any] = {"off_label_mass": res.off_label_mass, "label_mass": res.label_mass,
                                 "label_logprobs": res.label_logprobs, "spelling_logprobs": spelling_lp,
                                 "output_logprob": first.argmax_logprob}
        return Prediction(example_id=ex.id, label=res.best if valid else None, probs=res.probs, output=output,
                          extra=extra)
