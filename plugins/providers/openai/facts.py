"""What the OpenAI providers know about a model offline (``Provider.model_facts``): its tokenizer (the bundled
encodings) and its context window, for the data checks of ``harness validate`` — no key, no request."""

from __future__ import annotations

from typing import Any

from harness.examples import Example
from harness.providers import ModelFacts

from .tokenizers import Tokenizer, encoding_name_for_model, get_tokenizer

#: Context windows (prompt + output tokens) by model-name prefix, longest prefix first; ``ft:BASE:…`` uses BASE.
#: From OpenAI's model pages; a model not listed has an unknown window (set the option ``context_window``).
_WINDOWS: tuple[tuple[str, int], ...] = (
    ("gpt-3.5-turbo-instruct", 4_096), ("gpt-3.5-turbo-0613", 4_096), ("gpt-3.5-turbo-0301", 4_096),
    ("gpt-3.5-turbo", 16_385), ("gpt-35-turbo", 16_385),
    ("gpt-4o", 128_000), ("chatgpt-4o", 128_000), ("gpt-4-turbo", 128_000), ("gpt-4-1106", 128_000),
    ("gpt-4-0125", 128_000), ("gpt-4.5", 128_000), ("gpt-4.1", 1_047_576), ("gpt-4-32k", 32_768),
    ("gpt-4", 8_192), ("gpt-5", 400_000), ("o1-mini", 128_000), ("o1", 200_000), ("o3", 200_000),
    ("o4-mini", 200_000), ("gpt-oss", 131_072), ("babbage-002", 16_384), ("davinci-002", 16_384),
)


def context_window_for_model(model: str) -> int | None:
    """The context window of an OpenAI model id (fine-tunes included), or None for names it does not know."""
    name = model.strip()
    if name.startswith("ft:"):
        name = name[3:].split(":", 1)[0]
    best: tuple[int, int] | None = None
    for prefix, window in _WINDOWS:
        if name.startswith(prefix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), window)
    return best[1] if best else None


def _offline_tokenizer(setting: str, model_id: str) -> Tokenizer | None:
    """The bundled encoding the option names, or the model name implies (``auto``); None otherwise (``none``,
    or a tokenizer that cannot be had offline)."""
    if setting == "none":
        return None
    name = encoding_name_for_model(model_id) if setting == "auto" else setting
    if name not in ("o200k_base", "cl100k_base"):
        return None
    return get_tokenizer(name)


def openai_model_facts(model_id: str, options: Any, *, chat: bool) -> ModelFacts:
    """Facts for a chat or completions model: the tokenizer from the option or the model name, the window from
    the option ``context_window`` or the model name, the request's tokens by the providers' own counting."""
    tokenizer = _offline_tokenizer(str(getattr(options, "tokenizer", "auto")), model_id)
    window = getattr(options, "context_window", None) or context_window_for_model(model_id)
    count = None
    if tokenizer is not None:
        tok = tokenizer

        def count(example: Example) -> int:
            if chat:
                return tok.count_chat(example.messages)
            return len(tok.encode(example.prompt))

    return ModelFacts(model=model_id, tokenizer=tokenizer, context_window=window, output_tokens=1, chat=chat,
                      prompt_tokens=count, prompt_tokens_bound=_chat_bound if chat else _prompt_bound)


def _prompt_bound(example: Example) -> int:
    """A BPE token is at least one byte: a prompt has at most as many tokens as UTF-8 bytes."""
    return len(example.prompt.encode("utf-8", "surrogatepass"))


def _chat_bound(example: Example) -> int:
    """``Tokenizer.count_chat``'s count with every string's tokens bounded by its bytes."""
    total = 3
    for message in example.messages:
        total += 3 + sum(len(v.encode("utf-8", "surrogatepass")) + (k == "name")
                         for k, v in message.items() if isinstance(v, str))
    return total
