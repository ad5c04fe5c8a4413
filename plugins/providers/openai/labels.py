"""Label probabilities from one generated token's top-k logprobs. Pure: no SDK, no network, no I/O.

The rules (documented for users in docs/openai.md, "How label probabilities are computed"):

1. A returned token belongs to a label when it is the label's *first token*, written with or without a
   leading space (`` hockey`` / ``hockey``). With a tokenizer the first tokens are computed exactly (bytes
   compared); without one, a token belongs to a label when its text, minus one leading space, is a non-empty
   beginning of the label. Case-insensitive matching is an option (off by default).
2. Each label's probability is the sum of ``exp(logprob)`` over its matching tokens; the label
   probabilities are then renormalised to sum to 1. ``1 - (matched mass)`` is the off-label mass.
3. A label none of whose tokens is in the top-k gets the smallest returned probability — a bound: a token
   outside the top-k is never more likely than the least likely token inside it — and the example is
   flagged ``label-outside-top-k``.
4. The predicted label is the argmax of the label probabilities (ties: first label in suite order). When the
   generated token itself matches no label, the output is invalid: no predicted label, probabilities kept.
"""

from __future__ import annotations

import codecs
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..label_scoring import variants

__all__ = ["OUTSIDE_TOP_K", "AmbiguousToken", "LabelCollision", "LabelMatcher", "LabelProbs", "TopToken",
           "label_probabilities", "token_bytes", "variants"]

OUTSIDE_TOP_K = "label-outside-top-k"


class FirstTokenizer(Protocol):
    name: str

    def first_token(self, text: str) -> bytes:
        """The bytes of the first token of ``text``."""


class FirstTokenFromIds:
    """``first_token_id`` / ``first_token`` for a tokenizer that has ``encode`` (ids) and ``token_bytes``."""

    def encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def token_bytes(self, token_id: int) -> bytes:
        raise NotImplementedError

    def first_token_id(self, text: str) -> int:
        ids = self.encode(text)
        if not ids:
            raise ValueError("empty text has no first token")
        return ids[0]

    def first_token(self, text: str) -> bytes:
        return self.token_bytes(self.first_token_id(text))


class LabelCollision(ValueError):
    """Two labels begin with the same token: one-token probabilities cannot tell them apart."""

    def __init__(self, token: bytes, labels: tuple[str, str]) -> None:
        self.token = token.decode("utf-8", errors="replace")
        self.labels = labels
        super().__init__(f"labels {labels[0]!r} and {labels[1]!r} begin with the same token {self.token!r}")


class AmbiguousToken(ValueError):
    """(Text matching only) a returned token is the beginning of more than one label."""

    def __init__(self, token: str, labels: tuple[str, ...]) -> None:
        self.token = token
        self.labels = labels
        super().__init__(f"token {token!r} is the beginning of labels {', '.join(map(repr, labels))}")


@dataclass(frozen=True)
class TopToken:
    """One returned token: its text, logprob and (when the server sends them) its UTF-8 bytes."""

    token: str
    logprob: float | None
    raw: bytes | None = None

    @property
    def key(self) -> bytes:
        return self.raw if self.raw is not None else token_bytes(self.token)


def token_bytes(token: str, raw: Sequence[int] | None = None) -> bytes:
    """A token's bytes: the server's ``bytes`` list when given, else its text (``bytes:\\xe2`` escapes decoded)."""
    if raw is not None:
        return bytes(raw)
    if token.startswith("bytes:"):  # legacy completions spell a partial UTF-8 token this way
        try:
            return codecs.escape_decode(token[len("bytes:"):].encode("latin-1"))[0]
        except (ValueError, UnicodeEncodeError):
            pass
    return token.encode("utf-8")


class LabelMatcher:
    """Maps a returned token to the label it begins (or None)."""

    def __init__(self, labels: Sequence[str], tokenizer: FirstTokenizer | None = None,
                 case_insensitive: bool = False) -> None:
        self.labels = tuple(labels)
        self.case_insensitive = case_insensitive
        self.tokenizer = tokenizer.name if tokenizer is not None else None
        self.first_tokens: dict[bytes, str] | None = None
        self._aliases: dict[bytes, str] = {}
        self.first_token_ids: frozenset[int] = frozenset()  # for logit_bias, when the tokenizer gives ids
        if tokenizer is not None:
            table: dict[bytes, str] = {}
            first_id = getattr(tokenizer, "first_token_id", None)
            ids: set[int] = set()
            aliases: dict[bytes, str | None] = {}
            for label in self.labels:
                for form in variants(label, case_insensitive):
                    tok = tokenizer.first_token(form)
                    if not tok.strip():  # a lone space piece (SentencePiece "▁"): it begins every spaced label
                        continue
                    if first_id is not None:
                        ids.add(first_id(form))
                    other = table.get(tok)
                    if other is not None and other != label:
                        raise LabelCollision(tok, (other, label))
                    table[tok] = label
                    if getattr(tokenizer, "space_prefixed_pieces", False):
                        # SentencePiece pieces carry their space ("▁False"), and servers print them with or
                        # without it: accept the other spelling too, unless it is ambiguous between labels
                        alias = tok[1:] if tok.startswith(b" ") else b" " + tok
                        if alias.strip():
                            prev = aliases.get(alias, label)
                            aliases[alias] = label if prev == label else None
            self.first_tokens = table
            self.first_token_ids = frozenset(ids)
            self._aliases = {k: v for k, v in aliases.items() if v is not None and k not in table}
        self._folded = tuple(lab.casefold() if case_insensitive else lab for lab in self.labels)
        self._text_memo: dict[str, str | None] = {}  # a few distinct tokens recur in every response

    @property
    def mode(self) -> str:
        return "tokenizer" if self.first_tokens is not None else "text"

    def label_tokens(self) -> dict[str, list[str]]:
        """Label → the first-token texts that count for it (tokenizer mode), for docs and describe()."""
        out: dict[str, list[str]] = {lab: [] for lab in self.labels}
        for tok, lab in (self.first_tokens or {}).items():
            out[lab].append(tok.decode("utf-8", errors="replace"))
        return out

    def match(self, token: TopToken | str) -> str | None:
        if isinstance(token, str):
            token = TopToken(token, None)
        if self.first_tokens is not None:
            key = token.key
            found = self.first_tokens.get(key)
            return found if found is not None or not self._aliases else self._aliases.get(key)
        if token.token in self._text_memo:
            return self._text_memo[token.token]
        text = token.token[1:] if token.token.startswith(" ") else token.token
        if not text:
            return None
        if self.case_insensitive:
            text = text.casefold()
        hits = tuple(lab for lab, folded in zip(self.labels, self._folded) if folded.startswith(text))
        if len(hits) > 1:
            raise AmbiguousToken(token.token, hits)
        if len(self._text_memo) < 10_000:
            self._text_memo[token.token] = hits[0] if hits else None
        return hits[0] if hits else None


@dataclass(frozen=True)
class LabelProbs:
    """What one response says about the labels."""

    probs: dict[str, float]
    label: str | None  # argmax; None when the generated token matches no label (an invalid output)
    generated: str  # the generated token's text
    generated_label: str | None
    label_mass: float  # sum of exp(logprob) over returned tokens that match a label
    off_label_mass: float  # 1 - label_mass, clipped at 0
    outside_top_k: tuple[str, ...]  # labels absent from the top-k, given the bound
    bound: float | None  # the probability each absent label was given (before renormalising)

    @property
    def flags(self) -> tuple[str, ...]:
        return (OUTSIDE_TOP_K,) if self.outside_top_k else ()


def label_probabilities(top: Sequence[TopToken], generated: TopToken, matcher: LabelMatcher) -> LabelProbs:
    """Per-label probabilities from the top-k of one position (see the module docstring for the rules).

    ``generated`` is the token the model produced; it counts as a candidate too when the server gives its
    logprob (it is normally in the top-k already; duplicates count once).
    """
    candidates: list[TopToken] = []
    seen: set[bytes] = set()
    for tok in [*top, generated]:
        if tok.logprob is None or tok.key in seen:
            continue
        seen.add(tok.key)
        candidates.append(tok)
    if not candidates:
        raise ValueError("no top logprobs to compute label probabilities from")

    mass = {lab: 0.0 for lab in matcher.labels}
    present: set[str] = set()
    probs_seen: list[float] = []
    for tok in candidates:
        p = math.exp(tok.logprob)  # type: ignore[arg-type]
        probs_seen.append(p)
        label = matcher.match(tok)
        if label is not None:
            mass[label] += p
            present.add(label)
    label_mass = math.fsum(mass.values())
    missing = tuple(lab for lab in matcher.labels if lab not in present)
    bound = min(probs_seen) if missing else None
    for lab in missing:
        mass[lab] = bound  # type: ignore[assignment]
    total = math.fsum(mass.values())
    if total > 0:
        probs = {lab: mass[lab] / total for lab in matcher.labels}
    else:  # every probability underflowed to 0: nothing to prefer
        probs = {lab: 1.0 / len(matcher.labels) for lab in matcher.labels}
    generated_label = matcher.match(generated)
    best = max(matcher.labels, key=lambda lab: probs[lab])  # max() keeps the first of equal values
    return LabelProbs(probs=probs, label=best if generated_label is not None else None,
                      generated=generated.token, generated_label=generated_label, label_mass=label_mass,
                      off_label_mass=max(0.0, 1.0 - label_mass), outside_top_k=missing, bound=bound)
