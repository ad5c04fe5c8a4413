"""Full-label scoring on OpenAI-compatible servers (option ``scoring: full``): exact probabilities of every
spelling of every label, multi-token labels by the summed log-likelihood of their whole token sequence.

* Legacy completions (``openai-completions:``): one request per example whose ``prompt`` is a list — the bare
  prompt (its one generated token tells whether the output is valid) and the prompt followed by each spelling
  (``hockey``, `` hockey``) — sent with ``echo: true`` and ``logprobs``, so the server returns the log-probability
  of every prompt token. A spelling's tokens are those whose ``text_offset`` falls after the prompt. OpenAI's
  base models and babbage/davinci fine-tunes, vLLM and llama.cpp answer this.
* Chat (``openai:`` on vLLM): per spelling, the conversation with the spelling as the assistant's unfinished
  answer (vLLM's ``continue_final_message``) and ``prompt_logprobs: 0``; the spelling's tokens are read off the
  end of the prompt by their decoded text. Plus one ordinary request for the generated token.

Label probabilities: each label's spellings add up, then renormalise over the labels (label_scoring).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

from harness.errors import ExampleFailure, ProviderError
from harness.examples import Example, Prediction

from ..label_scoring import FULL_SEQUENCE_EXACT, begins_a_label, exact_scores, label_spellings
from .models import ChatModel, CompletionsModel


def _describe(model: Any, out: dict[str, Any]) -> dict[str, Any]:
    out["matching"] = "whole labels"
    out["spellings"] = {lab: list(forms) for lab, forms in model.spellings.items()}
    return out


def _prediction(example: Example, labels: Sequence[str], spellings: dict[str, list[str]],
                logprobs: dict[str, float], generated: str, case_insensitive: bool) -> Prediction:
    by_label = {lab: [logprobs[s] for s in spellings[lab]] for lab in labels}
    res = exact_scores(by_label, labels)
    valid = begins_a_label(generated, spellings, case_insensitive)
    extra: dict[str, Any] = {"off_label_mass": res.off_label_mass, "label_mass": res.label_mass,
                             "label_logprobs": res.label_logprobs, "spelling_logprobs": dict(logprobs)}
    return Prediction(example_id=example.id, label=res.best if valid else None, probs=res.probs,
                      output=generated, extra=extra)


def spelling_logprob(tokens: Sequence[Any], logprobs: Sequence[Any], offsets: Sequence[Any], prompt: str,
                     spelling: str) -> float:
    """Summed log-probability of the echoed tokens that spell ``spelling`` after ``prompt`` (offsets in
    characters, as OpenAI counts them, or in UTF-8 bytes, as some servers do)."""
    for start, end in ((len(prompt), len(prompt + spelling)),
                       (len(prompt.encode("utf-8")), len((prompt + spelling).encode("utf-8")))):
        idx = [j for j, off in enumerate(offsets) if off is not None and start <= int(off) < end]
        if idx and int(offsets[idx[0]]) == start:
            lps = [logprobs[j] for j in idx]
            if any(lp is None for lp in lps):
                raise ExampleFailure(f"the server gave no log-probability for a token of {spelling!r}")
            return math.fsum(float(lp) for lp in lps)
    raise ExampleFailure(f"the end of the prompt and the label spelling {spelling!r} merge into one token, so "
                         "the label cannot be scored on its own; end the prompt with a separator "
                         "(e.g. '\\n\\n###\\n\\n')")


class CompletionsFullModel(CompletionsModel):
    """``openai-completions:MODEL`` with ``scoring: full``: echo + logprobs over prompt + each spelling."""

    scoring = FULL_SEQUENCE_EXACT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._one_by_one = False  # the server does not take a list of prompts
        super().__init__(*args, **kwargs)

    def _configure(self, matcher: Any, tokenizer: Any) -> None:
        super()._configure(matcher, tokenizer)
        self.spellings = label_spellings(self.matcher.labels, self.options.case_insensitive)
        self.order = [s for lab in self.matcher.labels for s in self.spellings[lab]]

    def describe(self) -> dict[str, Any]:
        return _describe(self, super().describe())

    def build_request(self, example: Example) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model_id, "prompt": [example.prompt] + [example.prompt + s for s in
                                                                                       self.order],
                                "temperature": 0, "max_tokens": 1, "logprobs": 1, "echo": True}
        body.update(self._common_body())
        return body

    def estimate_tokens(self, request: dict[str, Any]) -> tuple[int, int] | None:
        if self.tokenizer is None or not getattr(self.tokenizer, "counts_offline", False):
            return None
        prompts = request.get("prompt") or []
        return (sum(len(self.tokenizer.encode(str(p))) for p in prompts), len(prompts))

    def _check_limit(self, request: dict[str, Any], response: dict[str, Any]) -> None:
        pass  # one generated token per prompt: the usage counts several prompts

    async def send(self, request: dict[str, Any]) -> dict[str, Any]:
        """The list of prompts in one request; for a server that does not take a list (it rejects it, or answers
        fewer choices), one request per prompt from then on, merged into one response."""
        prompts = request["prompt"]
        if not self._one_by_one:
            try:
                data = await super().send(request)
                if len(data.get("choices") or []) == len(prompts):
                    return data
                why = f"it answered {len(data.get('choices') or [])} choices for {len(prompts)} prompts"
            except ExampleFailure as exc:
                why = f"it rejected it: {exc.reason}"
            if not self._one_by_one:
                self._one_by_one = True
                self.notice(f"the server does not take a list of prompts ({why}): sending one request per prompt "
                            "and spelling")
        parts = await asyncio.gather(*(super(CompletionsFullModel, self).send({**request, "prompt": p})
                                       for p in prompts))
        choices = []
        for i, part in enumerate(parts):
            got = part.get("choices") or []
            if not got:
                raise ExampleFailure("the server returned no choices")
            choices.append({**got[0], "index": i})
        usage = [p.get("usage") for p in parts if isinstance(p.get("usage"), dict)]
        total = {k: sum(int(u.get(k) or 0) for u in usage) for k in ("prompt_tokens", "completion_tokens",
                                                                      "total_tokens")}
        return {**parts[0], "choices": choices, "usage": total}

    def _validate(self, raw: Any, data: Any) -> None:
        # echo returns null for the first prompt token's logprob and top_logprobs, which the SDK's Completion
        # type does not admit: validate everything else
        copy = {**data, "choices": [dict(c) for c in data.get("choices") or []]} if isinstance(data, dict) else data
        for choice in copy.get("choices", []) if isinstance(copy, dict) else []:
            lp = choice.get("logprobs")
            if isinstance(lp, dict):
                choice["logprobs"] = {**lp, "token_logprobs": [0.0 if v is None else v for v in
                                                               lp.get("token_logprobs") or []],
                                      "top_logprobs": [{} if v is None else v for v in lp.get("top_logprobs") or []]}
        super()._validate(raw, copy)

    def _parse(self, example: Example, response: dict[str, Any]) -> Prediction:
        choices = sorted(response.get("choices") or [], key=lambda c: int(c.get("index", 0)))
        if len(choices) != len(self.order) + 1:
            raise ProviderError(f"{self.what} answered {len(choices)} choices for {len(self.order) + 1} prompts: "
                                "full-label scoring needs a server that accepts a list of prompts")
        prompt = example.prompt
        first = choices[0]
        text = str(first.get("text") or "")
        generated = text[len(prompt):] if text.startswith(prompt) else text
        logprobs: dict[str, float] = {}
        for spelling, choice in zip(self.order, choices[1:]):
            lp = choice.get("logprobs")
            if not isinstance(lp, dict) or not lp.get("tokens"):
                raise self._no_logprobs()
            if not str(choice.get("text") or "").startswith(prompt + spelling):
                raise ProviderError(f"{self.what} did not echo the prompt (echo: true): full-label scoring needs "
                                    "the log-probabilities of the prompt's tokens; use scoring: first-token")
            offsets = lp.get("text_offset")
            if not isinstance(offsets, list) or len(offsets) != len(lp["tokens"]):
                raise ProviderError(f"{self.what} returned echoed logprobs without text_offset: full-label "
                                    "scoring needs them to find where the label starts")
            logprobs[spelling] = spelling_logprob(lp["tokens"], lp.get("token_logprobs") or [], offsets, prompt,
                                                  spelling)
        return _prediction(example, self.matcher.labels, self.spellings, logprobs, generated,
                           self.options.case_insensitive)

    def batch_client(self) -> None:
        return None  # a list prompt per request: sent directly


class ChatFullModel(ChatModel):
    """``openai:MODEL`` with ``scoring: full`` on vLLM: ``continue_final_message`` + ``prompt_logprobs``."""

    scoring = FULL_SEQUENCE_EXACT

    def _configure(self, matcher: Any, tokenizer: Any) -> None:
        super()._configure(matcher, tokenizer)
        # a chat answer starts at the assistant's turn: spellings without a leading space (templates trim them)
        self.spellings = label_spellings(self.matcher.labels, self.options.case_insensitive, leading_space=False)
        self.order = [s for lab in self.matcher.labels for s in self.spellings[lab]]

    def describe(self) -> dict[str, Any]:
        return _describe(self, super().describe())

    def build_request(self, example: Example) -> dict[str, Any]:
        body = super().build_request(example)
        body["top_logprobs"] = 1
        body["label_continuations"] = list(self.order)  # not sent as such: one request per spelling
        return body

    def _continuation(self, request: dict[str, Any], spelling: str) -> dict[str, Any]:
        body = {k: v for k, v in request.items() if k not in ("label_continuations", "logprobs", "top_logprobs")}
        body["messages"] = [*request["messages"], {"role": "assistant", "content": spelling}]
        body.update(add_generation_prompt=False, continue_final_message=True, prompt_logprobs=0)
        return body

    async def send(self, request: dict[str, Any]) -> dict[str, Any]:
        plain = {k: v for k, v in request.items() if k != "label_continuations"}
        first = await super().send(plain)  # may switch plain's output limit to max_tokens (see ChatModel)
        if "max_tokens" in plain and "max_completion_tokens" in request:  # record what was sent
            request["max_tokens"] = request.pop("max_completion_tokens")
        rest = await asyncio.gather(*(super(ChatFullModel, self).send(self._continuation(plain, s))
                                      for s in request["label_continuations"]))
        usage = [r.get("usage") for r in (first, *rest) if isinstance(r.get("usage"), dict)]
        total = {"prompt_tokens": sum(int(u.get("prompt_tokens") or 0) for u in usage),
                 "completion_tokens": sum(int(u.get("completion_tokens") or 0) for u in usage)}
        total["total_tokens"] = total["prompt_tokens"] + total["completion_tokens"]
        return {"generated": first, "continuations": list(rest), "usage": total}

    def _parse(self, example: Example, response: dict[str, Any]) -> Prediction:
        first = response["generated"]
        choices = first.get("choices") or []
        if not choices:
            raise ExampleFailure("the server returned no choices")
        message = choices[0].get("message") or {}
        generated = str(message.get("content") or "")
        conts = response["continuations"]
        logprobs: dict[str, float] = {}
        for spelling, cont in zip(self.order, conts):
            entries = cont.get("prompt_logprobs")
            if not isinstance(entries, list) or not entries:
                raise ProviderError(f"{self.what} returned no prompt_logprobs: full-label scoring of a chat model "
                                    "needs vLLM (prompt_logprobs, continue_final_message); use scoring: "
                                    "first-token, or the completions endpoint with echo")
            logprobs[spelling] = tail_logprob(entries, spelling)
        return _prediction(example, self.matcher.labels, self.spellings, logprobs, generated,
                           self.options.case_insensitive)

    def batch_client(self) -> None:
        return None


def tail_logprob(entries: Sequence[Any], spelling: str) -> float:
    """Summed log-probability of the last prompt tokens, which spell ``spelling`` (vLLM ``prompt_logprobs``:
    one ``{token_id: {"logprob", "rank", "decoded_token"}}`` per prompt position, None for the first)."""
    remaining = spelling
    total: list[float] = []
    for entry in reversed(entries):
        if not remaining:
            break
        if not isinstance(entry, dict) or not entry:
            break
        cands = [c for c in entry.values() if isinstance(c, dict) and isinstance(c.get("decoded_token"), str)]
        fits = [c for c in cands if c["decoded_token"] and remaining.endswith(c["decoded_token"])]
        if not fits:
            merged = [c for c in cands if c["decoded_token"].endswith(remaining)]
            if merged:
                raise ExampleFailure(f"the end of the conversation and the label spelling {spelling!r} merge into "
                                     "one token, so the label cannot be scored on its own")
            break
        best = max(fits, key=lambda c: len(c["decoded_token"]))
        total.append(float(best["logprob"]))
        remaining = remaining[: len(remaining) - len(best["decoded_token"])]
    if remaining:  # the conversation does not end with the label: the server did not continue the message
        raise ProviderError(f"the prompt logprobs do not end with the label spelling {spelling!r}: the server does "
                            "not seem to honour continue_final_message (vLLM does); use scoring: first-token")
    return math.fsum(total)
