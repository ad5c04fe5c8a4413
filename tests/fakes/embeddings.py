"""``POST /v1/embeddings`` for the fake OpenAI server (:mod:`fakes.openai_server`): deterministic vectors.

A text's vector is a function of the text alone (:func:`hash_vector`: seeded by the text's sha256, so the same
text gets the same vector in every run and process), or of whatever ``FakeOpenAI.embed`` is set to (a test may
make vectors carry label signal, return NaN, or change their dimension). Limits like the real endpoint's: at most
``max_embedding_inputs`` inputs per request (2,048), ``max_input_tokens`` tokens per input (8,192) and
``max_request_tokens`` tokens summed per request (300,000), counting a token per 4 characters (+1); an empty string
is refused. ``encoding_format: base64`` returns little-endian float32 bytes, base64-encoded, as the API does.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

EMBEDDING_DIMS = 8


def hash_vector(text: str, dims: int = EMBEDDING_DIMS) -> list[float]:
    """A unit vector determined by the text (a normal draw seeded by its sha256)."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dims)
    return [float(x) for x in (v / np.linalg.norm(v)).astype(np.float32)]


def fake_tokens(text: str) -> int:
    return len(text) // 4 + 1


def encode_base64(vector: Sequence[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def embedding_body(model: str, vectors: Sequence[Sequence[float]], prompt_tokens: int,
                   encoding: str = "float") -> dict[str, Any]:
    """A ``CreateEmbeddingResponse``."""
    data = [{"object": "embedding", "index": i,  # a float that is not finite: null, as llama.cpp's JSON writes it
             "embedding": encode_base64(v) if encoding == "base64" else
             [float(x) if np.isfinite(x) else None for x in v]}
            for i, v in enumerate(vectors)]
    return {"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens}}


def _error(message: str, param: str | None = "input", code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


class EmbeddingsEndpoint:
    """The state and handler behind ``/v1/embeddings`` (mixed into ``FakeOpenAI``)."""

    missing_models: set[str]

    def init_embeddings(self) -> None:
        self.embed: Callable[[str], Sequence[float]] = hash_vector
        self.max_embedding_inputs = 2048
        self.max_input_tokens = 8192
        self.max_request_tokens = 300_000
        self.embedded: list[str] = []  # every text embedded, in order (a rerun answered by the cache adds none)
        self.ignore_encoding_format = False  # some compatible servers always answer with float lists
        self.reported_tokens: Any = None  # when set: what usage.prompt_tokens says (a broken server's count)

    def embeddings(self, body: Any, *, model_name: str | None = None) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict) or "input" not in body or "model" not in body:
            return 400, _error("Missing required parameter: 'input'.")
        model = body["model"]
        if model in self.missing_models:
            return 404, _error(f"The model `{model}` does not exist or you do not have access to it.", None,
                               "model_not_found")
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if not texts or any(not isinstance(t, str) for t in texts):
            return 400, _error("'$.input' is invalid. Please check the API reference.")
        if len(texts) > self.max_embedding_inputs:
            return 400, _error(f"Too many inputs. The max number of inputs is {self.max_embedding_inputs}.")
        if any(t == "" for t in texts):
            return 400, _error("'$.input' is invalid: an input cannot be an empty string.")
        tokens = [fake_tokens(t) for t in texts]
        if max(tokens) > self.max_input_tokens:
            return 400, _error(f"This model's maximum context length is {self.max_input_tokens} tokens, however you "
                               f"requested {max(tokens)} tokens. Please reduce your prompt.")
        if sum(tokens) > self.max_request_tokens:
            return 400, _error(f"Requested {sum(tokens)} tokens, max {self.max_request_tokens} tokens per request")
        dims = body.get("dimensions")
        vectors = []
        for text in texts:
            v = list(self.embed(text))
            vectors.append(v[:dims] if isinstance(dims, int) else v)
        self.embedded.extend(texts)
        encoding = "float" if self.ignore_encoding_format else body.get("encoding_format", "float")
        counted = sum(tokens) if self.reported_tokens is None else self.reported_tokens
        return 200, embedding_body(model_name or model, vectors, counted, encoding)
