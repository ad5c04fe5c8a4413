"""The examples a run would send for the rows that read cleanly, built by the run's own prompt builder (template,
separator, system prompt), so token counts are of what the model would really receive."""

from __future__ import annotations

import json
from typing import Any

from ..errors import InputError
from ..examples import Example
from ..suite.datasets import _PromptBuilder as PromptBuilder  # the run's builder: one definition of a prompt
from ..suite.datasets import content_id
from .findings import ERROR, Finding, finding
from .rows import Split


def build_examples(suite: Any, split: Split) -> tuple[list[tuple[int, Example]], list[Finding]]:
    """(line, example) for every usable row, and a finding for rows the template cannot render."""
    try:
        builder = PromptBuilder(suite)
    except InputError as exc:
        return [], [finding("template-invalid", ERROR, "format", f"prompt.template (line {exc.line}): {exc.message}",
                            file=str(suite.path))]
    out: list[tuple[int, Example]] = []
    failed: list[int] = []
    first_error = ""
    for row in split.usable:
        try:
            out.append((row.line, _example(builder, split, row, suite)))
        except InputError as exc:
            failed.append(row.line)
            first_error = first_error or exc.message
    findings = []
    if failed:
        findings.append(finding("template-error", ERROR, "format", f"prompt.template: {first_error}", failed,
                                file=str(split.path)))
    return out, findings


def _example(builder: Any, split: Split, row: Any, suite: Any) -> Example:
    path, line = split.path, row.line
    label = row.label or ""
    if split.format == "openai-jsonl":
        text = builder.strip_sep(row.prompt)
        prompt = builder.prompt(text, {}, path, line) if builder.template else row.prompt
        messages = builder.messages(prompt)
        content = row.prompt
    elif split.format == "chat-jsonl":
        context = tuple(row.messages)
        text = row.user_text or ""
        prompt = builder.prompt(text, {}, path, line)
        messages = context
        content = json.dumps(context, sort_keys=True, ensure_ascii=False) if row.id is None else ""
    else:
        text = row.text or ""
        prompt = builder.prompt(text, {k: v for k, v in row.raw.items() if k != "text"}, path, line)
        messages = builder.messages(prompt)
        content = text
    return Example(id=row.id or content_id(content), label=label, text=text, prompt=prompt, messages=messages,
                   source=str(path), line=line)
