"""Log-probabilities from a causal language model's logits, in left-padded batches (torch).

Every sequence is a prompt, optionally followed by a label's continuation tokens. Sequences are sorted by length
and batched; left padding puts the last token of every row in the last column, so the positions that predict
the continuation (and the first token after the prompt) sit at the same offset from the right in every row,
and only those last columns of logits are computed (``logits_to_keep``). Position ids are derived from the
attention mask, so a padded row sees the same positions as it would alone: batching and padding do not change
the numbers (up to floating-point summation order).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Seq:
    """One row to score: ``ids`` = prompt ids + ``cont`` continuation ids at the end."""

    ids: list[int]
    cont: int = 0
    want: Sequence[int] = ()  # token ids whose log-probability is wanted at the first position after the prompt


@dataclass
class Scored:
    argmax: int = -1  # the most likely token at the first position after the prompt
    argmax_logprob: float = float("nan")
    first: dict[int, float] = field(default_factory=dict)  # the wanted ids' log-probabilities there
    cont_logprob: float = 0.0  # summed log-probabilities of the continuation tokens


class Forward:
    """Runs a model on left-padded batches and returns log-probabilities of the last columns."""

    def __init__(self, model: Any, pad_id: int) -> None:
        inner = model.get_base_model() if hasattr(model, "get_base_model") else model
        params = inspect.signature(inner.forward).parameters
        self.model = model
        self.pad_id = pad_id
        self.keep_arg = "logits_to_keep" in params
        self.position_arg = "position_ids" in params
        self.cache_arg = "use_cache" in params
        # the key/value cache argument: "cache" in recent transformers, "past_key_values" before
        self.cache_kw = "cache" if "cache" in params else "past_key_values"
        self.device = next(model.parameters()).device

    def __call__(self, rows: Sequence[Sequence[int]], keep: int) -> Any:
        """``[len(rows), keep, vocab]`` float32 log-probabilities of the last ``keep`` positions."""
        import torch

        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, width - len(row):] = torch.tensor(row, dtype=torch.long)
            mask[i, width - len(row):] = 1
        kwargs: dict[str, Any] = {"input_ids": ids.to(self.device), "attention_mask": mask.to(self.device)}
        if self.position_arg:
            kwargs["position_ids"] = (mask.cumsum(-1) - 1).clamp(min=0).to(self.device)
        if self.keep_arg:
            kwargs["logits_to_keep"] = keep
        if self.cache_arg:
            kwargs["use_cache"] = False
        with torch.inference_mode():
            logits = self.model(**kwargs).logits[:, -keep:, :]
            return torch.log_softmax(logits.float(), dim=-1)


def score(forward: Forward, seqs: Sequence[Seq], batch_size: int) -> list[Scored]:
    """Score every sequence (results in input order)."""
    import torch

    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i].ids))  # longest first: memory fails early
    out: list[Scored] = [Scored() for _ in seqs]
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        keep = max(seqs[i].cont for i in chunk) + 1
        lp = forward([seqs[i].ids for i in chunk], keep)
        for row, i in enumerate(chunk):
            seq = seqs[i]
            first = keep - seq.cont - 1  # the column that predicts the first token after the prompt
            dist = lp[row, first]
            best = int(torch.argmax(dist))
            res = out[i]
            res.argmax, res.argmax_logprob = best, float(dist[best])
            if seq.want:
                vals = dist[torch.tensor(list(seq.want), dtype=torch.long, device=dist.device)].tolist()
                res.first = dict(zip(seq.want, vals))
            if seq.cont:
                cols = torch.arange(first, first + seq.cont, device=lp.device)
                toks = torch.tensor(seq.ids[-seq.cont:], dtype=torch.long, device=lp.device)
                res.cont_logprob = float(lp[row, cols, toks].double().sum())
    return out


@dataclass
class Prefixed:
    """An example whose continuations share its prompt: scored by one forward pass over the prompt (keeping its
    key/value cache) and one over all continuations at once, instead of one pass over prompt + each."""

    prompt: list[int]
    conts: list[tuple[int, ...]]
    first: Scored = field(default_factory=Scored)
    cont_logprobs: list[float] = field(default_factory=list)


def score_prefixed(forward: Forward, items: Sequence[Prefixed], batch_size: int) -> None:
    """Fill each item's ``first`` (argmax after the prompt) and ``cont_logprobs`` (summed log-probabilities of each
    continuation). The prompt's cache is copied once per continuation (``batch_select_indices``), the
    continuations right-padded after it, positions continuing from each prompt's own length."""
    import torch

    if not forward.keep_arg or not forward.cache_arg:
        raise NotImplementedError("the model does not take logits_to_keep and use_cache")
    order = sorted(range(len(items)), key=lambda i: -len(items[i].prompt))
    for start in range(0, len(order), batch_size):
        chunk = [items[i] for i in order[start:start + batch_size]]
        width = max(len(it.prompt) for it in chunk)
        ids = torch.full((len(chunk), width), forward.pad_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for b, it in enumerate(chunk):
            ids[b, width - len(it.prompt):] = torch.tensor(it.prompt, dtype=torch.long)
            mask[b, width - len(it.prompt):] = 1
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        dev = forward.device
        with torch.inference_mode():
            out = forward.model(input_ids=ids.to(dev), attention_mask=mask.to(dev), position_ids=pos.to(dev),
                                use_cache=True, logits_to_keep=1)
            first = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1)
            rows = [(b, c) for b, it in enumerate(chunk) for c in it.conts]
            for b, it in enumerate(chunk):
                best = int(torch.argmax(first[b]))
                it.first = Scored(argmax=best, argmax_logprob=float(first[b, best]))
                it.cont_logprobs = [float(first[b, c[0]]) for c in it.conts]
            longest = max(len(c) for _, c in rows)
            if longest < 2:
                continue
            cache = getattr(out, "cache", None) if forward.cache_kw == "cache" else out.past_key_values
            if cache is None:
                raise NotImplementedError("the model returned no key/value cache")
            sel = torch.tensor([b for b, _ in rows], dtype=torch.long, device=dev)
            cache.batch_select_indices(sel)
            tail = longest - 1  # the last token of a continuation predicts nothing we need
            cont_ids = torch.full((len(rows), tail), forward.pad_id, dtype=torch.long)
            cont_mask = torch.zeros((len(rows), tail), dtype=torch.long)
            for r, (_, c) in enumerate(rows):
                if len(c) > 1:
                    cont_ids[r, :len(c) - 1] = torch.tensor(c[:-1], dtype=torch.long)
                    cont_mask[r, :len(c) - 1] = 1
            full_mask = torch.cat([mask.index_select(0, sel.cpu()), cont_mask], dim=1)
            lengths = mask.sum(-1).index_select(0, sel.cpu())
            cpos = lengths[:, None] + torch.arange(tail)[None, :]
            nxt = forward.model(input_ids=cont_ids.to(dev), attention_mask=full_mask.to(dev),
                                position_ids=cpos.to(dev), use_cache=True, logits_to_keep=0,
                                **{forward.cache_kw: cache})
            lp = torch.log_softmax(nxt.logits.float(), dim=-1)
            r = 0
            for it in chunk:
                for k, c in enumerate(it.conts):
                    if len(c) > 1:
                        toks = torch.tensor(c[1:], dtype=torch.long, device=lp.device)
                        cols = torch.arange(len(c) - 1, device=lp.device)
                        it.cont_logprobs[k] += float(lp[r, cols, toks].double().sum())
                    r += 1
