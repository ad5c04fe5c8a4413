"""A model's own tokenizer from a local ``tokenizer.json`` (or a model folder holding one), read with the
Hugging Face ``tokenizers`` library: nothing is downloaded.

Label matching compares a returned token's bytes with the bytes of each label's first token, so every token id
is turned into the exact bytes it stands for, by the tokenizer's own convention: byte-level BPE (GPT-2, Llama 3,
Qwen, Mistral Tekken) spells bytes with a printable alphabet (``Ġ`` = space); SentencePiece-style vocabularies
(Llama 2, Gemma, Mistral v1-v3) write a space as ``▁`` and rare bytes as ``<0xNN>`` pieces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from .labels import FirstTokenFromIds

TOKENIZER_FILE = "tokenizer.json"
_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")


class TokenizerUnavailable(Exception):
    """The tokenizer cannot be loaded (no file, not a tokenizer, library missing); the message says why."""


@lru_cache(maxsize=1)
def byte_level_alphabet() -> dict[str, int]:
    """The byte-level BPE alphabet, character → byte: printable Latin-1 bytes stand for themselves, the other
    bytes (control characters, space, ...) for consecutive code points from U+0100 on."""
    printable = set(range(ord("!"), ord("~") + 1)) | set(range(0xA1, 0xAC + 1)) | set(range(0xAE, 0xFF + 1))
    table: dict[str, int] = {}
    shifted = 0
    for b in range(256):
        if b in printable:
            table[chr(b)] = b
        else:
            table[chr(256 + shifted)] = b
            shifted += 1
    return table


def _types(node: Any) -> set[str]:
    """Every component type named in a tokenizer.json section (sequences included)."""
    out: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            out.add(node["type"])
        for key in ("decoders", "pretokenizers", "normalizers"):
            for child in node.get(key) or []:
                out |= _types(child)
    return out


def tokenizer_file(path: Path) -> Path:
    """``path`` itself, or ``path/tokenizer.json`` for a model folder."""
    if path.is_dir():
        candidate = path / TOKENIZER_FILE
        if not candidate.is_file():
            raise TokenizerUnavailable(f"{path} has no {TOKENIZER_FILE} (a fast tokenizer file; save one with "
                                       "transformers: AutoTokenizer.from_pretrained(...).save_pretrained(folder))")
        return candidate
    if not path.is_file():
        raise TokenizerUnavailable(f"{path}: no such file or folder")
    return path


class LocalTokenizer(FirstTokenFromIds):
    """The operations label matching needs, on a ``tokenizer.json``."""

    kind = "local"
    counts_offline = True

    def __init__(self, path: Path) -> None:
        file = tokenizer_file(path)
        try:
            from tokenizers import Tokenizer as HFTokenizer
        except ImportError:
            raise TokenizerUnavailable("a tokenizer.json needs the tokenizers library: "
                                       "pip install 'harness-eval[hf]' (or pip install tokenizers)") from None
        try:
            self._tok = HFTokenizer.from_file(str(file))
            spec = json.loads(self._tok.to_str())
        except Exception as exc:  # the library raises plain Exceptions for malformed files
            raise TokenizerUnavailable(f"{file}: not a readable tokenizer.json "
                                       f"({' '.join(str(exc).split())[:200]})") from None
        self.name = str(path)
        self.path = file
        decoder = _types(spec.get("decoder"))
        pre = _types(spec.get("pre_tokenizer"))
        self._byte_level = "ByteLevel" in decoder or "ByteLevel" in pre
        self._byte_fallback = "ByteFallback" in decoder
        #: SentencePiece-style pieces carry their leading space ("▁False"); servers print them with or without it
        self.space_prefixed_pieces = not self._byte_level and ("Metaspace" in decoder | pre or "Replace" in decoder)
        self._special = {int(t["id"]): str(t["content"]) for t in spec.get("added_tokens") or []
                         if isinstance(t, dict) and "id" in t and "content" in t}
        self._bytes: dict[int, bytes] = {}
        self._vocab: frozenset[bytes] | None = None

    @property
    def n_vocab(self) -> int:
        return int(self._tok.get_vocab_size(with_added_tokens=True))

    def encode(self, text: str) -> list[int]:
        return list(self._tok.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: list[int]) -> str:
        """The text of token ids (the data checks show token texts, not only ids)."""
        return str(self._tok.decode(list(ids), skip_special_tokens=False))

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes a token id stands for (special tokens: their text)."""
        cached = self._bytes.get(token_id)
        if cached is not None:
            return cached
        out = self._token_bytes(token_id)
        self._bytes[token_id] = out
        return out

    def _token_bytes(self, token_id: int) -> bytes:
        piece = self._tok.id_to_token(token_id)
        m = _BYTE_PIECE.fullmatch(piece or "")
        if m and self._byte_fallback:  # SentencePiece byte pieces "<0x0A>"
            return bytes([int(m.group(1), 16)])
        if token_id in self._special:
            return self._special[token_id].encode("utf-8")
        if piece is None:
            return b""
        if self._byte_level:
            alphabet = byte_level_alphabet()
            if all(ch in alphabet for ch in piece):
                return bytes(alphabet[ch] for ch in piece)
            return piece.encode("utf-8")
        if self.space_prefixed_pieces:
            return piece.replace("\u2581", " ").encode("utf-8")
        return self._tok.decode([token_id], skip_special_tokens=False).encode("utf-8")

    def vocab(self) -> frozenset[bytes]:
        """The bytes of every token (for checking that a server's tokens come from this vocabulary)."""
        if self._vocab is None:
            self._vocab = frozenset(self.token_bytes(i) for i in range(self.n_vocab))
        return self._vocab

    def count_chat(self, messages: Iterable[Mapping[str, Any]]) -> int:
        """Prompt tokens of a chat request: the messages' tokens plus a few per message for the template (an
        estimate: the server's chat template decides the exact count)."""
        total = 3
        for message in messages:
            total += 4
            for value in message.values():
                if isinstance(value, str):
                    total += len(self.encode(value))
        return total
