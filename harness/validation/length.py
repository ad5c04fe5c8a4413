"""Length: held-out examples whose request (prompt + output tokens) does not fit the model's context window, in
the model's own tokens — they would fail at the API, and a failed example counts as wrong for that model."""

from __future__ import annotations

from collections.abc import Sequence

from ..examples import Example
from ..providers import ModelFacts
from .findings import ERROR, INFO, WARNING, Finding, finding

CHECK = "length"


def check_length(name: str, facts: ModelFacts, examples: Sequence[tuple[int, Example]],
                 file: str | None) -> list[Finding]:
    model = facts.model or name
    if facts.context_window is None or facts.prompt_tokens is None:
        missing = "context window" if facts.context_window is None else "tokenizer"
        return [finding("length-unchecked", INFO, CHECK, f"{name}: the {missing} of {model!r} is not known "
                        "offline, so lengths were not checked", model=name,
                        hint="set the model option context_window (and tokenizer)")]
    window, out_tokens = facts.context_window, facts.output_tokens
    over: list[int] = []
    longest = 0
    bound = facts.prompt_tokens_bound
    for line, ex in examples:
        if bound is not None and bound(ex) + out_tokens <= window:
            continue  # fits even counted generously: no need to tokenize
        n = facts.prompt_tokens(ex)
        if n + out_tokens > window:
            over.append(line)
            longest = max(longest, n)
    if not over:
        return []
    outputs = f" with {out_tokens} output token{'s' if out_tokens != 1 else ''}" if out_tokens else ""
    return [finding("too-long", ERROR if facts.too_long_stops else WARNING, CHECK,
                    f"held-out examples exceed {name}'s {facts.window_name} ({window:,} tokens{outputs}; the longest "
                    f"{'prompt' if out_tokens else 'text'} is {longest:,} tokens)", over, file=file, model=name,
                    hint="shorten or drop these examples: they would fail and count as wrong")]
