"""Duplicates and leakage: held-out rows repeated inside the held-out set (exactly, or after whitespace/case
normalisation), held-out rows that are also in the training file (the model has seen the answer), and the same
text with different labels. Rows are compared on their input text without separator or template."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from ..suite.datasets import content_id
from .conventions import Conventions
from .findings import ERROR, WARNING, Finding, finding
from .rows import Row, Split
from .text import normalise

CHECK = "duplicates"


def _strip(text: str, seps: tuple[str, ...]) -> str:
    for sep in seps:
        if sep and text.endswith(sep):
            return text[: -len(sep)]
    return text


def exact_key(row: Row, seps: tuple[str, ...]) -> str:
    """The input exactly (a chat row: its messages, system prompt included; else its text, minus separator)."""
    if row.messages is not None:
        return json.dumps(row.messages, sort_keys=True, ensure_ascii=False)
    return _strip(row.text or "", seps)


def text_key(row: Row, seps: tuple[str, ...]) -> str:
    return normalise(_strip(row.user_text if row.messages is not None else (row.text or ""), seps))


@dataclass
class Repeats:
    """Which held-out lines repeat an earlier one, or leak from training (what ``--fix`` removes)."""

    exact: list[int] = field(default_factory=list)
    normalised: list[int] = field(default_factory=list)
    conflicting: list[int] = field(default_factory=list)
    leak_exact: list[int] = field(default_factory=list)
    leak_normalised: list[int] = field(default_factory=list)
    leak_relabelled: list[int] = field(default_factory=list)
    first_of: dict[int, int] = field(default_factory=dict)  # repeated line -> the line it repeats

    @property
    def removable(self) -> set[int]:
        return set(self.exact) | set(self.normalised) | set(self.leak_exact) | set(self.leak_normalised)


def _digest(*parts: str) -> bytes:
    """A 128-bit digest of ``parts`` (each length-prefixed, so no two different tuples share their bytes): what the
    repeats are compared on. A million held-out rows keep a million short digests, not their texts twice over
    (~0.9 GB less at that size); two different texts share one with a probability of about 2**-128 per pair."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        b = part.encode("utf-8", "surrogatepass")
        h.update(b"%d:" % len(b))
        h.update(b)
    return h.digest()


_MIXED = object()  # a normalised text seen with more than one label


def find_repeats(held: Split, train: Split | None, conv: Conventions, suite_sep: str) -> Repeats:
    seps = tuple(s for s in dict.fromkeys((conv.separator, conv.train_separator or "", suite_sep)) if s)
    rep = Repeats()
    seen_exact: dict[bytes, int] = {}
    seen_norm: dict[tuple[bytes, str], int] = {}
    label_of: dict[bytes, object] = {}  # normalised text -> its label, or _MIXED
    norm_keys: list[tuple[bytes, int]] = []
    for row in held.usable:
        label = row.label or ""
        nk = _digest(text_key(row, seps))
        ek_l, nk_l = _digest(exact_key(row, seps), label), (nk, label)  # the pair itself: no third digest
        first = label_of.setdefault(nk, label)
        if first is not _MIXED and first != label:
            label_of[nk] = _MIXED
        norm_keys.append((nk, row.line))
        if ek_l in seen_exact:
            rep.exact.append(row.line)
            rep.first_of[row.line] = seen_exact[ek_l]
        elif nk_l in seen_norm:
            rep.normalised.append(row.line)
            rep.first_of[row.line] = seen_norm[nk_l]
        seen_exact.setdefault(ek_l, row.line)
        seen_norm.setdefault(nk_l, row.line)
    del seen_exact, seen_norm
    rep.conflicting = sorted(line for nk, line in norm_keys if label_of[nk] is _MIXED)
    del norm_keys, label_of
    if train is not None:
        t_exact: dict[bytes, tuple[int, str]] = {}
        t_norm: dict[bytes, tuple[int, str]] = {}
        for row in train.usable:
            t_exact.setdefault(_digest(_plain(row, seps)), (row.line, row.label or ""))
            t_norm.setdefault(_digest(text_key(row, seps)), (row.line, row.label or ""))
        for row in held.usable:
            hit = t_exact.get(_digest(_plain(row, seps)))
            if hit is not None:
                rep.leak_exact.append(row.line)
            else:
                hit = t_norm.get(_digest(text_key(row, seps)))
                if hit is not None:
                    rep.leak_normalised.append(row.line)
            if hit is not None:
                rep.first_of.setdefault(row.line, hit[0])
                if hit[1] != row.label:
                    rep.leak_relabelled.append(row.line)
    return rep


def _plain(row: Row, seps: tuple[str, ...]) -> str:
    """The text exactly, across formats (a chat row's user messages; an openai-jsonl or CSV row's text)."""
    return _strip(row.user_text if row.messages is not None else (row.text or ""), seps)


def derived_id(row: Row, fmt: str) -> str:
    """The id a run gives a row of a file without ids (:func:`harness.suite.datasets.content_id`, as its
    reader computes it)."""
    if fmt == "openai-jsonl":
        return content_id(str(row.raw.get("prompt", "")))
    if fmt == "chat-jsonl":
        return content_id(json.dumps(row.messages or [], sort_keys=True, ensure_ascii=False))
    return content_id(row.text or "")


def same_content_other_label(held: Split) -> tuple[list[int], dict[int, int]]:
    """Rows of a file without ids whose input is an earlier row's exactly but whose label is not: the run derives
    ids from the content, so it cannot tell the two apart (and --fix cannot tell which label is right)."""
    if not held.derived_ids:
        return [], {}
    first: dict[str, tuple[int, str]] = {}
    lines: list[int] = []
    of: dict[int, int] = {}
    for row in held.usable:
        key = derived_id(row, held.format)
        if key in first and first[key][1] != (row.label or ""):
            lines.append(row.line)
            of[row.line] = first[key][0]
        first.setdefault(key, (row.line, row.label or ""))
    return lines, of


def check_duplicates(held: Split, train: Split | None, rep: Repeats) -> list[Finding]:
    out: list[Finding] = []
    file = str(held.path)
    clashing, of = same_content_other_label(held)
    if clashing:
        out.append(finding("duplicate-id", ERROR, CHECK, "held-out rows have exactly the input of an earlier row "
                           f"but another label (first: line {clashing[0]} = line {of[clashing[0]]}); the file has "
                           "no ids, so a run derives them from the input and cannot tell the rows apart", clashing,
                           file=file, hint="give every row an id, or keep only the row with the right label "
                                           "(--fix cannot know which one it is)"))
    if rep.exact:
        # without an id field a run derives ids from the content and refuses two equal inputs
        severity = ERROR if held.derived_ids else WARNING
        out.append(finding("duplicate", severity, CHECK, "held-out rows repeat an earlier row exactly (same input "
                           f"and label; first repeat: line {rep.exact[0]} = line {rep.first_of[rep.exact[0]]}): "
                           "each counts twice in every metric", rep.exact, file=file, fixable=True))
    if rep.normalised:
        out.append(finding("duplicate-normalised", WARNING, CHECK, "held-out rows repeat an earlier row once case "
                           f"and whitespace are ignored (first: line {rep.normalised[0]} ~ line "
                           f"{rep.first_of[rep.normalised[0]]})", rep.normalised, file=file, fixable=True))
    if rep.conflicting:
        out.append(finding("conflicting-labels", WARNING, CHECK, "held-out rows with the same text (ignoring case "
                           "and whitespace) have different labels: at most one of them can be right",
                           rep.conflicting, file=file))
    if train is not None:
        relabelled = set(rep.leak_relabelled)
        for code, lines, how in (("leak", rep.leak_exact, "exactly"),
                                 ("leak-normalised", rep.leak_normalised, "once case and whitespace are ignored")):
            if not lines:
                continue
            k = len(relabelled.intersection(lines))
            other = f"; {k} of them with a different label there" if k else ""
            out.append(finding(code, ERROR, CHECK, f"held-out rows are also in the training file {how} (first: "
                               f"line {lines[0]} = training line {rep.first_of[lines[0]]}{other}): the model has "
                               "seen them, so they inflate its score", lines, file=file, fixable=True))
    return out
