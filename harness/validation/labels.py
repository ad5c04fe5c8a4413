"""The label set itself: numeric labels, labels that differ only in case or spacing, and — per model, under its
tokenizer — labels that are several tokens or whose first tokens collide (one-token probabilities, OpenAI's
method, cannot tell such labels apart)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..providers import ModelFacts
from .findings import ERROR, INFO, WARNING, Finding, finding

CHECK = "labels"
_NUMBER = re.compile(r"^[+-]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def check_label_set(labels: Sequence[str]) -> list[Finding]:
    out: list[Finding] = []
    numeric = [lab for lab in labels if _NUMBER.match(lab)]
    if numeric:
        out.append(finding("label-numeric", WARNING, CHECK, f"numeric labels ({', '.join(numeric)}): tokenizers "
                           "split numbers unpredictably (a leading space may be a token of its own, '1' begins "
                           "'10'), so word labels score more reliably", count=len(numeric), items=tuple(numeric)))
    groups: dict[str, list[str]] = defaultdict(list)
    for lab in labels:
        groups[re.sub(r"[\s_-]+", "", lab.casefold())].append(lab)
    clashing = [g for g in groups.values() if len(g) > 1]
    if clashing:
        items = tuple(lab for g in clashing for lab in g)
        pairs = "; ".join(" / ".join(g) for g in clashing)
        out.append(finding("label-normalised-collision", WARNING, CHECK, f"labels differ only in case or spacing "
                           f"({pairs}): a model (or case-insensitive matching) easily confuses them",
                           count=len(items), items=items))
    return out


def _token_text(tokenizer: Any, ids: Sequence[int]) -> str:
    decode = getattr(tokenizer, "decode", None)
    if decode is not None:
        try:
            return repr(decode(list(ids)))
        except Exception:  # a tokenizer without decode support for these ids: show the ids
            pass
    return "#" + "+".join(map(str, ids))


def check_label_tokens(name: str, facts: ModelFacts, labels: Sequence[str], space: str) -> list[Finding]:
    """Under the model's tokenizer, as its provider scores labels (``facts.scoring``): with first-token scoring
    the labels' first tokens (written with and without a leading space, as the providers match them) must differ;
    with full-label scoring only their whole token sequences must. A label written as the model writes it should
    be one token (a note: with first-token scoring only its first token counts; with full scoring it is scored
    whole)."""
    tok = facts.tokenizer
    if tok is None:
        return []
    full = facts.scoring == "full"
    out = _same_tokens(name, tok, labels) if full else _first_token_collisions(name, tok, labels)
    written = space if not facts.chat else ""
    multi = []
    for lab in labels:
        ids = list(tok.encode(written + lab))
        if len(ids) > 1:
            multi.append(f"{lab} ({len(ids)} tokens: {', '.join(_token_text(tok, [i]) for i in ids)})")
    if multi:
        how = ("they are scored whole (the summed log-probability of their tokens)" if full
               else "their probability is read from the first token only")
        out.append(finding("label-multi-token", INFO, "tokens", f"under {tok.name} ({name}), labels written as "
                           f"{'the chat model' if facts.chat else 'the completion'} writes them are several tokens: "
                           f"{'; '.join(multi)}; {how}",
                           count=len(multi), items=tuple(m.split(" (")[0] for m in multi), model=name))
    return out


def _forms(label: str) -> list[str]:
    """A label as the providers match it: as written and with one leading space."""
    return list(dict.fromkeys((label, " " + label)))


def _ordered(labels: Sequence[str], group: set[str]) -> tuple[str, ...]:
    order = list(labels)
    return tuple(sorted(group, key=order.index))


def _blank(tok: Any, token: int) -> bool:
    """A first token that is only a space (SentencePiece's lone "▁" before a spaced word): the providers do not
    match labels by it, as it begins every spaced label."""
    decode = getattr(tok, "decode", None)
    if decode is None:
        return False
    try:
        return not str(decode([token])).strip()
    except Exception:  # a tokenizer that cannot decode this id: count it
        return False


def _first_token_collisions(name: str, tok: Any, labels: Sequence[str]) -> list[Finding]:
    owner: dict[int, str] = {}
    clashes: dict[int, set[str]] = defaultdict(set)
    for lab in labels:
        for form in _forms(lab):
            ids = list(tok.encode(form))
            if not ids or _blank(tok, ids[0]):
                continue
            other = owner.setdefault(ids[0], lab)
            if other != lab:
                clashes[ids[0]].update((other, lab))
    if not clashes:
        return []
    items = _ordered(labels, {lab for group in clashes.values() for lab in group})
    parts = "; ".join(f"{' and '.join(_ordered(labels, g))} begin with {_token_text(tok, [t])}"
                      for t, g in clashes.items())
    return [finding("label-first-token-collision", ERROR, "tokens", f"under {tok.name} ({name}), {parts}: "
                    "one-token probabilities cannot tell these labels apart (rename them, or score whole labels: "
                    "the option scoring: full)", count=len(items), items=items, model=name,
                    hint="rename the labels so their first tokens differ, or score whole labels with the model "
                         "option scoring: full where the provider offers it")]


def _same_tokens(name: str, tok: Any, labels: Sequence[str]) -> list[Finding]:
    """Full-label scoring: two labels whose spellings are the very same tokens (a tokenizer that normalises case
    or spacing) cannot be told apart by any score."""
    owner: dict[tuple[int, ...], str] = {}
    clashes: dict[tuple[int, ...], set[str]] = defaultdict(set)
    for lab in labels:
        for form in _forms(lab):
            ids = tuple(tok.encode(form))
            if not ids:
                continue
            other = owner.setdefault(ids, lab)
            if other != lab:
                clashes[ids].update((other, lab))
    if not clashes:
        return []
    items = _ordered(labels, {lab for group in clashes.values() for lab in group})
    parts = "; ".join(f"{' and '.join(_ordered(labels, g))} are both {_token_text(tok, list(t))}"
                      for t, g in clashes.items())
    return [finding("label-token-collision", ERROR, "tokens", f"under {tok.name} ({name}), {parts}: no score "
                    "can tell these labels apart, even whole", count=len(items), items=items, model=name,
                    hint="rename the labels so they differ under the model's tokenizer")]
