"""Format parity with training: the held-out prompts end with the training separator (and hold it nowhere
else), completions start with the same whitespace and end with the same stop sequence, chat examples carry the
training system prompt, and the prompt template renders prompts the way the training file has them."""

from __future__ import annotations

from typing import Any

from .conventions import Conventions, ending_of, prompt_of
from .findings import ERROR, INFO, WARNING, Finding, finding
from .rows import Split
from .text import common_beginning, leading_space, show, trim_prefix

CHECK = "format"
_MARK = "\x00TEXT\x00"


def check_format(ctx: Any, conv: Conventions) -> list[Finding]:
    held, train, suite = ctx.heldout, ctx.train, ctx.suite
    out: list[Finding] = []
    if held is None:
        return out
    suite_sep = suite.prompt.separator
    builds = held.format in ("csv", "tsv") or suite.prompt.template is not None
    if train is not None and held.format != train.format:
        out.append(finding("format-differs", INFO, CHECK, f"the held-out file is {held.format} and the training "
                           f"file {train.format}: the checks compare what each model is sent",
                           file=str(held.path)))
    if conv.train_separator is not None and conv.train_separator != suite_sep:
        severity = ERROR if builds else (INFO if held.format == "chat-jsonl" else WARNING)
        what = ("harness appends it to every held-out prompt" if builds else
                "harness strips it from prompts for local models")
        out.append(finding("separator-mismatch", severity, CHECK,
                           f"suite.yaml's prompt.separator is {show(suite_sep)} but the training prompts end "
                           f"with {show(conv.train_separator) if conv.train_separator else 'no common separator'}"
                           f" ({what})", count=len(held.usable), file=str(suite.path),
                           hint=f"set prompt.separator: {conv.train_separator!r}"))
    out += _separators(held, conv, suite_sep)
    out += _completions(held, conv)
    out += _system(ctx, held, conv)
    out += _template(ctx, held, train, conv)
    return out


def _separators(held: Split, conv: Conventions, suite_sep: str) -> list[Finding]:
    sep = conv.separator
    out: list[Finding] = []
    missing, inside = [], []
    built = held.format in ("csv", "tsv")  # harness appends the suite's separator to the text
    if built:
        sep = suite_sep
    for row in held.usable:
        prompt = (row.text or "") + suite_sep if built else prompt_of(row)
        if prompt is None or not sep:
            continue
        if not prompt.endswith(sep):
            missing.append(row.line)
        body = prompt[: -len(sep)] if prompt.endswith(sep) else prompt
        if sep in body:
            inside.append(row.line)
    src = {"training": "the training file's", "suite": "the suite's"}.get(conv.separator_source,
                                                                      "most held-out prompts'")
    if missing:
        out.append(finding("separator-missing", ERROR, CHECK, f"held-out prompts do not end with {src} separator "
                           f"{show(sep)}", missing, file=str(held.path), fixable=True))
    if inside:
        out.append(finding("separator-inside", WARNING, CHECK, f"held-out prompts contain the separator "
                           f"{show(sep)} before their end (the model may take it for the end of the prompt)",
                           inside, file=str(held.path)))
    return out


def _completions(held: Split, conv: Conventions) -> list[Finding]:
    out: list[Finding] = []
    rows = [r for r in held.usable if r.completion is not None and r.label is not None]
    if held.format not in ("openai-jsonl", "chat-jsonl") or not rows:
        return out
    what = {"training": "the training file's", "convention": "OpenAI's guides'"}.get(conv.completion_source,
                                                                                   "the held-out file's")
    if conv.space is not None:
        bad = [r.line for r in rows if leading_space(r.completion or "") != conv.space]
        if bad:
            expected = f"leading whitespace {show(conv.space)}" if conv.space else "no leading whitespace"
            out.append(finding("completion-whitespace", WARNING, CHECK,
                               f"held-out completions do not start as {what} do ({expected})", bad,
                               file=str(held.path), fixable=True))
    if conv.stop is not None:
        bad = [r.line for r in rows if (ending_of(r) or "") != conv.stop]
        if bad:
            src = "the training file's" if conv.completion_source == "training" else "most held-out rows'"
            expected = f"stop sequence {show(conv.stop)}" if conv.stop else "no stop sequence"
            out.append(finding("stop-sequence", WARNING, CHECK, f"held-out completions do not end with {src} "
                               f"{expected}", bad, file=str(held.path), fixable=True))
    return out


def _system(ctx: Any, held: Split, conv: Conventions) -> list[Finding]:
    if conv.system is None:
        return []
    if held.format == "chat-jsonl":
        bad = [r.line for r in held.usable if (r.system or "") != conv.system]
        if not bad:
            return []
        return [finding("system-prompt", ERROR, CHECK, "held-out chat examples' system prompt differs from the "
                        f"training file's ({show(conv.system) if conv.system else 'none'})", bad,
                        file=str(held.path))]
    mine = ctx.suite.prompt.system or ""
    if mine == conv.system:
        return []
    return [finding("system-prompt", ERROR, CHECK, f"chat models get the system prompt {show(mine) if mine else 'none'}"
                    f" (suite.yaml prompt.system), but the training file's is "
                    f"{show(conv.system) if conv.system else 'none'}", count=len(held.usable),
                    file=str(ctx.suite.path), hint="set prompt.system to the training file's system prompt")]


def _template(ctx: Any, held: Split, train: Split | None, conv: Conventions) -> list[Finding]:
    """The template must give held-out prompts the training prompts' form: rendered from a training prompt it
    must give it back unchanged (held-out prompts already formatted), or — for CSV text — produce the beginning
    and ending the training prompts share."""
    if train is None:
        return []
    suite = ctx.suite
    template_src = suite.prompt.template
    train_prompts = [(r.line, p) for r in train.usable if (p := prompt_of(r)) is not None]
    if not train_prompts:
        return []
    tsep = conv.train_separator or ""
    out: list[Finding] = []
    template = None
    if template_src is not None:  # jinja2 loads only for a suite with a template
        from ..suite.prompt_template import PromptTemplate, TemplateProblem

        try:
            template = PromptTemplate(template_src)
        except TemplateProblem:
            return []  # the suite check reports an invalid template
    if template is not None and held.format in ("openai-jsonl", "chat-jsonl") and train.format == "openai-jsonl":
        changed = []
        sep = suite.prompt.separator
        for line, p in train_prompts:
            text = p[: -len(sep)] if sep and p.endswith(sep) else p
            try:
                rendered = template.render(text=text) + sep
            except TemplateProblem:
                rendered = None
            if rendered != p:
                changed.append(line)
        if changed:
            out.append(finding("template-changes-prompts", ERROR, CHECK,
                               "the prompt template does not render the training file's prompts unchanged, so "
                               "held-out prompts formatted like them are changed before they are sent",
                               changed, file=str(train.path), hint="remove prompt.template, or give the held-out "
                               "file as CSV text for the template to format"))
        return out
    if held.format not in ("csv", "tsv"):
        return out
    bodies = [(line, p[: -len(tsep)] if tsep and p.endswith(tsep) else p) for line, p in train_prompts]
    prefix, suffix = "", ""
    if template is not None:
        try:
            shape = template.render(text=_MARK)
        except TemplateProblem:
            return [finding("template-unchecked", INFO, CHECK, "the prompt template uses fields besides text: its "
                            "prompts were not compared with the training prompts", file=str(suite.path))]
        if shape.count(_MARK) != 1:
            return out
        prefix, suffix = shape.split(_MARK)
    bad = [line for line, b in bodies if not (b.startswith(prefix) and b.endswith(suffix))]
    if bad and len(bad) * 2 > len(bodies):  # the template's form is not the training prompts' form
        out.append(finding("template-shape", ERROR, CHECK, f"the prompt template writes {show(prefix)} before "
                           f"and {show(suffix)} after the text, unlike the training prompts", bad,
                           file=str(train.path)))
        return out
    common = trim_prefix(common_beginning([b for _, b in bodies], 0.9)[0])
    if len(common.strip()) >= 2 and not prefix.startswith(common):
        out.append(finding("prompt-prefix", ERROR, CHECK, f"the training prompts begin with {show(common)} but the "
                           "prompts harness builds from the held-out text do not", count=len(held.usable),
                           file=str(held.path), hint=f"set prompt.template: {(common + '{{ text }}')!r}"))
    return out
