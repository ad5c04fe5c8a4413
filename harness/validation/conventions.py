"""The conventions the model was trained with, read from the training file (and the suite where it has none):
the separator ending each prompt, the whitespace before a completion's label, the stop sequence after it, the
system prompt of chat examples. The format checks hold the held-out file to them; ``--fix`` applies them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .rows import Row, Split
from .text import common_ending, leading_space, trim_separator


@dataclass(frozen=True)
class Conventions:
    separator: str  # what held-out prompts must end with ("" = none)
    separator_source: str  # "training" | "suite" | "held-out" (most held-out prompts)
    train_separator: str | None  # inferred from the training prompts (None: no training prompts to read)
    space: str | None  # leading whitespace of a completion (None: not checked)
    stop: str | None  # what follows the label in a completion (None: not checked)
    system: str | None  # the training chat examples' system prompt ("" none; None: no chat training file)
    completion_source: str  # "training" | "held-out" | "convention"


def prompt_of(row: Row) -> str | None:
    """The formatted prompt a row carries: an openai-jsonl prompt, or a chat row's last user message."""
    if row.prompt is not None:
        return row.prompt
    if row.messages:
        users = [m["content"] for m in row.messages if m["role"] == "user"]
        return users[-1] if users else None
    return None


def ending_of(row: Row) -> str | None:
    """What follows the label in a completion (" hockey\\n" → "\\n")."""
    if row.completion is None or row.label is None:
        return None
    return row.completion.lstrip()[len(row.label):]


def infer_separator(prompts: list[str], suite_separator: str) -> str:
    """The training separator: the suite's when at least half the prompts end with it, else the longest ending
    at least half of them share (without the words and sentence punctuation before it)."""
    if not prompts:
        return suite_separator
    if suite_separator and sum(p.endswith(suite_separator) for p in prompts) * 2 >= len(prompts):
        return suite_separator
    return trim_separator(common_ending(prompts, 0.5)[0])


def _majority(values: list[str]) -> str | None:
    if not values:
        return None
    value, n = Counter(values).most_common(1)[0]
    return value if n * 2 >= len(values) else None


def conventions(suite_separator: str, heldout: Split | None, train: Split | None,
                explicit_separator: bool = True) -> Conventions:
    """``explicit_separator``: suite.yaml sets ``prompt.separator`` (else it is the default, which a held-out
    file without a training file is held to only when most of its prompts use it)."""
    train_rows = train.usable if train is not None else []
    train_prompts = [p for p in map(prompt_of, train_rows) if p is not None]
    train_sep = infer_separator(train_prompts, suite_separator) if train_prompts else None
    chat_held = heldout is not None and heldout.format == "chat-jsonl"
    if train_sep is not None:
        separator, source = train_sep, "training"
    elif chat_held:  # chat messages without a training file: no convention to hold them to
        separator, source = "", "suite"
    elif explicit_separator or heldout is None or heldout.format in ("csv", "tsv"):
        separator, source = suite_separator, "suite"
    else:  # the default separator: what most held-out prompts end with (nothing, when they share no ending)
        held_prompts = [p for p in map(prompt_of, heldout.usable) if p is not None]
        separator, source = infer_separator(held_prompts, suite_separator), "held-out"

    space = stop = None
    completion_source = "training"
    comp_train = [r for r in train_rows if r.completion is not None and r.label is not None]
    held_rows = [r for r in (heldout.usable if heldout is not None else [])
                 if r.completion is not None and r.label is not None]
    if heldout is not None and heldout.format in ("openai-jsonl", "chat-jsonl"):
        if comp_train and train is not None and train.format == heldout.format:
            space = _majority([leading_space(r.completion or "") for r in comp_train])
            stop = _majority([ending_of(r) or "" for r in comp_train])
            if stop is None:
                stop = ""
        elif heldout.format == "openai-jsonl":  # OpenAI's guides: a label completion starts with a space
            space, completion_source = " ", "convention"
            stop = _majority([ending_of(r) or "" for r in held_rows]) if held_rows else None
            completion_source = "convention"
    system = None
    if train is not None and train.format == "chat-jsonl":
        system = _majority([r.system or "" for r in train_rows]) if train_rows else None
    return Conventions(separator=separator, separator_source=source, train_separator=train_sep, space=space,
                       stop=stop, system=system, completion_source=completion_source)
