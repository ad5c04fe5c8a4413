"""Text helpers of the checks: normalisation for near-duplicates, and the ending (or beginning) most rows share."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

_SPACE = re.compile(r"\s+")
_WORDISH = ".,!?;:'\")]}"  # trimmed off the inner end of an inferred separator or prefix


def normalise(text: str) -> str:
    """What two texts must share to count as the same example: Unicode compatibility forms, case and runs of
    whitespace are ignored (``"The  Cat\\n"`` and ``"the cat"`` are the same)."""
    if text.isascii():  # NFKC leaves ASCII as it is, and ``\\s`` is what ``str.split`` splits on
        return " ".join(text.lower().split())
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def leading_space(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def common_ending(texts: Sequence[str], share: float = 0.5, max_len: int = 200) -> tuple[str, int]:
    """The longest ending at least ``share`` of ``texts`` have, and how many have it ("" when none)."""
    need = max(1, int(share * len(texts) + 0.999999))  # at least share, rounded up
    best, best_n = "", 0
    for k in range(1, max_len + 1):
        counts = Counter(t[-k:] for t in texts if len(t) >= k)
        if not counts:
            break
        end, n = counts.most_common(1)[0]
        if n < need:
            break
        best, best_n = end, n
    return best, best_n


def common_beginning(texts: Sequence[str], share: float = 0.9, max_len: int = 200) -> tuple[str, int]:
    rev, n = common_ending([t[::-1] for t in texts], share, max_len)
    return rev[::-1], n


def trim_separator(ending: str) -> str:
    """An inferred separator without the words or sentence punctuation many texts happen to end with."""
    i = 0
    while i < len(ending) and (ending[i].isalnum() or ending[i] in _WORDISH):
        i += 1
    return ending[i:]


def trim_prefix(beginning: str) -> str:
    """An inferred prompt prefix cut after its last non-word character (``"Post: Th"`` → ``"Post: "``)."""
    i = len(beginning)
    while i > 0 and beginning[i - 1].isalnum():
        i -= 1
    return beginning[:i]


def show(text: str, limit: int = 40) -> str:
    """A short, visible rendering of a string for messages (newlines as ``\\n``)."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 2] + "…" + shown[-1]


def add_separator(prompt: str, sep: str) -> str:
    """``prompt`` ending with ``sep``: a partial or differently spaced separator at its end (``"\\n\\n###"``,
    ``"\\n###\\n"``) is replaced rather than doubled."""
    if not sep or prompt.endswith(sep):
        return prompt
    core = sep.strip()
    stripped = prompt.rstrip()
    if core and stripped.endswith(core):  # the separator with other whitespace around it
        return stripped[: -len(core)].rstrip() + sep
    for k in range(min(len(sep) - 1, len(prompt)), 0, -1):  # the beginning of the separator
        if sep.startswith(prompt[-k:]):
            return prompt[:-k] + sep
    return prompt + sep
