"""Embedding vectors: read from a response and checked, and kept in one float32 matrix per model.

An embeddings response carries each vector as a list of floats or (``encoding_format: base64``) as the base64 of
its little-endian float32 bytes, four times smaller; both are read, and a response is cached with its vectors in
base64 whatever the server sent. A vector that is not finite (NaN, or ``null`` in a list: how llama.cpp writes a
NaN) fails its text alone, and is never cached; vectors of differing dimension stop the model, since no
classifier can use them.

:class:`Matrix` holds every vector a model fetched in one preallocated float32 array (``n × dims``, its rows
allocated at the first vector: 100,000 texts of 1,536 dimensions are 614 MB), filled row by row as the
responses are parsed, so no per-text list of Python floats is ever kept.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np

from harness.errors import ProviderError


class BadVector(ValueError):
    """One vector cannot be used (not finite, malformed); the message says why."""


def decode(value: Any) -> np.ndarray:
    """A vector as float32, from a list of numbers or base64 float32 bytes; :class:`BadVector` if it is not
    one, or holds a value that is not finite."""
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise BadVector("the embedding is neither a list of numbers nor base64") from None
        if not raw or len(raw) % 4:
            raise BadVector(f"the base64 embedding has {len(raw)} bytes, not a whole number of float32 values")
        vec = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    elif isinstance(value, list) and value:
        if any(v is None for v in value):
            raise BadVector("the server returned a vector with null values (NaN or infinity on its side)")
        try:
            vec = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise BadVector("the embedding holds values that are not numbers") from None
        if vec.ndim != 1:
            raise BadVector("the embedding is not a flat list of numbers")
        with np.errstate(over="ignore"):  # a value beyond float32's range becomes infinite: refused below
            vec = vec.astype(np.float32)
    else:
        raise BadVector("the response holds no embedding")
    if not np.isfinite(vec).all():
        raise BadVector("the server returned a vector that is not finite (NaN or infinity)")
    return vec


def encode(vec: np.ndarray) -> str:
    """base64 of little-endian float32 bytes (how a response is cached)."""
    return base64.b64encode(np.ascontiguousarray(vec, dtype="<f4").tobytes()).decode("ascii")


class Matrix:
    """``n`` rows of float32 vectors, allocated at the first vector (its dimension fixes the width)."""

    def __init__(self, n: int, what: str, dims: int | None = None) -> None:
        self.n = n
        self.what = what  # "model 'text-embedding-3-small'", for errors
        self.dims = dims  # known before the first vector when the model asks for a number of dimensions
        self.data: np.ndarray | None = None
        self.filled = np.zeros(n, dtype=bool)

    def check(self, vec: np.ndarray) -> None:
        """Stop the model (ProviderError) when a vector's dimension differs from the others'."""
        if self.dims is None:
            self.dims = int(vec.shape[0])
        elif vec.shape[0] != self.dims:
            raise ProviderError(f"{self.what} returned vectors of {vec.shape[0]} and of {self.dims} dimensions: "
                                "embeddings of one model must all have the same dimension (a server that changed "
                                "models under the same name? `harness cache clear --match MODEL` forgets its "
                                "cached vectors)")

    def put(self, row: int, vec: np.ndarray) -> None:
        self.check(vec)
        if self.data is None:
            self.data = np.zeros((self.n, int(self.dims or vec.shape[0])), dtype=np.float32)
        self.data[row] = vec
        self.filled[row] = True

    def put_block(self, start: int, block: np.ndarray) -> None:
        """Rows ``start…`` at once (vectors made on this machine)."""
        if len(block):
            self.check(block[0])
            if self.data is None:
                self.data = np.zeros((self.n, int(self.dims or block.shape[1])), dtype=np.float32)
            self.data[start:start + len(block)] = block
            self.filled[start:start + len(block)] = True

    def rows(self, index: np.ndarray) -> np.ndarray:
        """The vectors of these rows (a copy, float32)."""
        if self.data is None:
            return np.zeros((len(index), self.dims or 0), dtype=np.float32)
        return self.data[index]

    @property
    def nbytes(self) -> int:
        return 0 if self.data is None else int(self.data.nbytes)


def response_vectors(response: dict[str, Any], n: int, what: str) -> list[np.ndarray | str]:
    """The ``n`` vectors of an embeddings response, in input order (by ``index``): an array, or why that input's
    vector is unusable. A response that does not hold ``n`` vectors is a :class:`ProviderError`."""
    data = response.get("data") if isinstance(response, dict) else None
    if not isinstance(data, list):
        raise ProviderError(f"{what}: the response has no data list (not an embeddings response)")
    if len(data) != n:
        raise ProviderError(f"{what}: the server returned {len(data)} vectors for {n} inputs")
    slots: list[Any] = [None] * n
    for pos, item in enumerate(data):
        index = item.get("index", pos) if isinstance(item, dict) else None
        if not isinstance(index, int) or not 0 <= index < n or slots[index] is not None:
            raise ProviderError(f"{what}: the response's vectors are not numbered 0..{n - 1} (index {index!r})")
        slots[index] = item
    out: list[np.ndarray | str] = []
    for item in slots:
        try:
            out.append(decode(item.get("embedding")))
        except BadVector as exc:
            out.append(str(exc))
    return out
