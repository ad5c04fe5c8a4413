"""How a language model's label probabilities are scored: shared by the OpenAI-compatible and local ``hf``
providers. Pure: no SDK, no torch, no I/O.

Three methods, recorded per model as ``info.scoring`` in results.json (docs/openai.md, docs/hf.md):

* ``first-token-top-k`` — each label's mass is read from the top-k logprobs of the first generated token; a label
  outside the top-k gets a bound, not its probability (OpenAI chat models, compatible servers by default);
* ``first-token-exact`` — the probability of each label's first token from the whole-vocabulary distribution at
  the position after the prompt (every label is a single token: the local ``hf`` provider);
* ``full-sequence-exact`` — each spelling of a label is scored by the summed log-likelihood of its whole token
  sequence after the prompt (multi-token labels; legacy completions with ``echo``, vLLM ``prompt_logprobs``,
  the local ``hf`` provider).

A label is written by a model with or without one leading space (`` hockey`` after a completions separator,
``hockey`` at the start of a chat answer): both spellings are different strings, so their probabilities add up.
Label probabilities are then renormalised over the label set, and ``1 - (label mass)`` is the off-label mass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

FIRST_TOKEN_TOP_K = "first-token-top-k"
FIRST_TOKEN_EXACT = "first-token-exact"
FULL_SEQUENCE_EXACT = "full-sequence-exact"

METHODS: dict[str, str] = {
    FIRST_TOKEN_TOP_K: "first token, from the top-k logprobs (a label outside the top-k gets a bound)",
    FIRST_TOKEN_EXACT: "first token, exact probability over the whole vocabulary",
    FULL_SEQUENCE_EXACT: "whole label, exact summed log-likelihood of its tokens",
}


def variants(label: str, case_insensitive: bool = False) -> list[str]:
    """The spellings of a label the model may start with: as is and with a leading space (and, when case is
    ignored, lower/upper/capitalised/title case of each)."""
    forms = [label]
    if case_insensitive:
        forms += [label.lower(), label.upper(), label.capitalize(), label.title()]
    out: list[str] = []
    for form in forms:
        for v in (form, " " + form):
            if v not in out:
                out.append(v)
    return out


class SpellingClash(ValueError):
    """Two labels share a spelling (e.g. ``Yes`` and ``yes`` when case is ignored): no score can separate them."""

    def __init__(self, spelling: str, labels: tuple[str, str]) -> None:
        self.spelling = spelling
        self.labels = labels
        super().__init__(f"labels {labels[0]!r} and {labels[1]!r} share the spelling {spelling!r}")


def label_spellings(labels: Sequence[str], case_insensitive: bool = False,
                    leading_space: bool = True) -> dict[str, list[str]]:
    """Label → the spellings scored for it (``leading_space=False``: only those without a leading space).
    Raises :class:`SpellingClash` when two labels share one."""
    owner: dict[str, str] = {}
    out: dict[str, list[str]] = {}
    for label in labels:
        forms = [v for v in variants(label, case_insensitive) if leading_space or not v.startswith(" ")]
        for form in forms:
            other = owner.get(form)
            if other is not None and other != label:
                raise SpellingClash(form, (other, label))
            owner[form] = label
        out[label] = forms
    return out


def logsumexp(values: Iterable[float]) -> float:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return -math.inf
    top = max(vals)
    if top == -math.inf:
        return -math.inf
    return top + math.log(math.fsum(math.exp(v - top) for v in vals))


@dataclass(frozen=True)
class ExactScores:
    """Label probabilities from exact (not top-k) scores."""

    probs: dict[str, float]
    label_logprobs: dict[str, float]  # log of each label's summed mass, before renormalising
    label_mass: float
    off_label_mass: float
    best: str  # argmax of probs (ties: first label in suite order)


def exact_scores(logprobs: Mapping[str, Sequence[float]], labels: Sequence[str]) -> ExactScores:
    """``logprobs``: label → the log-probabilities of its spellings (each a whole sequence, or one token).

    Each label's mass is the sum of its spellings' probabilities; the masses are renormalised over the labels in
    log space, so labels far in the tail (exp underflows to 0) still get their true relative probabilities."""
    label_lp = {lab: logsumexp(logprobs.get(lab, ())) for lab in labels}
    total = logsumexp(label_lp.values())
    if total == -math.inf:  # no spelling has any probability: nothing to prefer
        probs = {lab: 1.0 / len(labels) for lab in labels}
    else:
        probs = {lab: math.exp(label_lp[lab] - total) for lab in labels}
    mass = math.exp(total) if total > -math.inf else 0.0
    best = max(labels, key=lambda lab: probs[lab])
    return ExactScores(probs=probs, label_logprobs=label_lp, label_mass=min(mass, 1.0),
                       off_label_mass=max(0.0, 1.0 - mass), best=best)


def begins_a_label(text: str, spellings: Mapping[str, Sequence[str]], case_insensitive: bool = False) -> bool:
    """Whether a generated token's text is a non-empty beginning of some spelling of some label (the test for a
    valid output when labels are scored whole and the generated token is only a first piece)."""
    if not text:
        return False
    probe = text.casefold() if case_insensitive else text
    for forms in spellings.values():
        for form in forms:
            target = form.casefold() if case_insensitive else form
            if target.startswith(probe) or (probe.startswith(" ") and target.startswith(probe[1:]) and probe[1:]):
                return True
    return False
