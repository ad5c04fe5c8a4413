"""What the OpenAI providers know about a model offline (``Provider.model_facts``): its tokenizer (a bundled
encoding, or the model's own ``tokenizer.json`` / model folder named by the option ``tokenizer``), its context
window and how its labels are scored (the option ``scoring``), for the data checks of ``harness validate`` — no
key, no request, no download."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.examples import Example
from harness.providers import ModelFacts

from ..label_scoring import variants
from .tokenizers import OPENAI_ENCODINGS, encoding_name_for_model, get_tokenizer

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


def _offline_tokenizer(setting: str, model_id: str, root: Path | None, where: str) -> Any | None:
    """The tokenizer the option names, or the model name implies (``auto``), when it can be had offline: a bundled
    encoding or a local ``tokenizer.json`` / model folder (a relative path is relative to ``root``: the suite
    folder for a model of suite.yaml, the current folder for ``--model``); None for ``none``, ``server`` (only
    the server can tell) and a model name that implies none."""
    if setting in ("none", "server"):
        return None
    name = encoding_name_for_model(model_id) if setting == "auto" else setting
    if name is None:
        return None
    if name in OPENAI_ENCODINGS:
        return get_tokenizer(name)
    from .local_tokenizer import LocalTokenizer, TokenizerUnavailable

    path = Path(name).expanduser()
    if not path.is_absolute() and root is not None:
        path = root / path
    try:
        return LocalTokenizer(path)
    except TokenizerUnavailable as exc:
        raise UsageError(f"{where}: option tokenizer: {exc}") from None


def openai_model_facts(model_id: str, options: Any, *, chat: bool, labels: Sequence[str] = (),
                       root: Path | None = None, where: str = "") -> ModelFacts:
    """Facts for a chat or completions model: the tokenizer from the option or the model name, the window from
    the option ``context_window`` or the model name, the request's tokens by the providers' own counting, and
    the scoring method (option ``scoring``: with ``full``, every label spelling is sent after the prompt, so a
    request holds the prompt, the longest spelling and the one generated token)."""
    tokenizer = _offline_tokenizer(str(getattr(options, "tokenizer", "auto")), model_id, root, where or model_id)
    window = getattr(options, "context_window", None) or context_window_for_model(model_id)
    full = getattr(options, "scoring", "first-token") == "full"
    count = None
    output_tokens = 1
    if tokenizer is not None:
        tok = tokenizer

        def count(example: Example) -> int:
            if chat:
                return int(tok.count_chat(example.messages))
            return len(tok.encode(example.prompt))

        if full:
            forms = [v for lab in labels for v in variants(lab, bool(getattr(options, "case_insensitive", False)))]
            output_tokens += max((len(tok.encode(v)) for v in forms), default=0)
    # A bundled encoding does not normalise text, so a token is at least one byte: a cheap bound. A tokenizer.json
    # may normalise (NFKC can turn one character into many), so its prompts are counted exactly.
    bound = (_chat_bound if chat else _prompt_bound) if tokenizer is None or tokenizer.kind == "tiktoken" else None
    return ModelFacts(model=model_id, tokenizer=tokenizer, context_window=window, output_tokens=output_tokens,
                      chat=chat, prompt_tokens=count, prompt_tokens_bound=bound,
                      scoring="full" if full else "first-token")


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
