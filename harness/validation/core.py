"""``validate()``: every data check on a suite (and, through their providers, its models), as findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..gcpause import paused_gc
from ..plugins import Registry, load_registry
from ..providers import ModelFacts, ModelSpec
from ..suite import Suite, load_suite, parse_cli_model, parse_model_spec
from ..suite.datasets import load_dataset
from ..textfile import iter_lines
from .conventions import Conventions, conventions
from .duplicates import Repeats, check_duplicates, find_repeats
from .examples import build_examples
from .findings import ERROR, INFO, WARNING, Finding, Validation, finding, without
from .formatting import check_format
from .labels import check_label_set, check_label_tokens
from .length import check_length
from .rows import Split, read_split
from .size import check_size

#: Every finding code, for ``validate.ignore`` (an unknown code there is a warning, not a silent no-op).
CODES = frozenset({
    "file-not-found", "unreadable", "not-utf8", "malformed-json", "malformed-csv", "missing-field", "bad-field",
    "bad-row", "unknown-label", "missing-id", "duplicate-id", "no-examples", "bom", "crlf",
    "format-differs", "separator-mismatch", "separator-missing", "separator-inside", "completion-whitespace",
    "stop-sequence", "system-prompt", "template-changes-prompts", "template-shape", "template-unchecked",
    "template-invalid", "template-error", "prompt-prefix",
    "label-numeric", "label-normalised-collision", "label-first-token-collision", "label-token-collision",
    "label-multi-token",
    "unknown-provider", "model-options", "no-model-facts", "length-unchecked", "too-long",
    "duplicate", "duplicate-normalised", "conflicting-labels", "leak", "leak-normalised",
    "class-counts", "class-missing", "class-small", "too-small", "size", "mde-unreachable", "unknown-ignore",
})


@dataclass
class Checked:
    """A validation with what ``--fix`` needs: the files as read, the conventions, the repeated rows."""

    validation: Validation
    suite: Suite
    heldout: Split | None
    train: Split | None
    conventions: Conventions | None
    repeats: Repeats | None
    facts: dict[str, ModelFacts] = field(default_factory=dict)


def model_specs(suite: Suite, models: Sequence[ModelSpec | str] = (), only: bool = False) -> list[ModelSpec]:
    """The suite's models with ``models`` (``NAME=PROVIDER:ARGUMENT``, or ``PROVIDER:ARGUMENT`` named after
    itself) replacing or adding; ``only``: just ``models``."""
    specs = {} if only else {s.name: s for s in suite.models}
    for m in models:
        if isinstance(m, str):
            name, eq, _ = m.partition("=")
            m = parse_cli_model(m) if eq and ":" not in name else parse_model_spec(m.strip(), m.strip())
        specs[m.name] = m
    return list(specs.values())


def _read(suite: Suite, which: str) -> tuple[Split | None, list[Finding]]:
    rel = getattr(suite.data, which)
    if rel is None:
        return None, []
    path = suite.root / rel
    severity = ERROR if which == "heldout" else WARNING
    where = f"data.{which}"
    try:
        return read_split(which, path, suite.data.format, suite.labels, suite.data), []
    except FileNotFoundError:
        return None, [finding("file-not-found", severity, "data", f"{where}: file not found: {path}",
                              file=str(suite.path))]
    except (OSError, ValueError) as exc:  # a folder, no permission, a NUL in the path...
        return None, [finding("unreadable", severity, "data", f"{where}: cannot read {path!r}: "
                              f"{getattr(exc, 'strerror', None) or exc}", file=str(suite.path))]


class _Examples:
    """The examples a run would send, built on first use: only the length checks need them (and a template, whose
    failures are findings, is tried on every row up front)."""

    def __init__(self, suite: Suite, held: Split | None) -> None:
        self.suite, self.held = suite, held
        self._built: list[Any] | None = None

    def build(self) -> tuple[list[Any], list[Finding]]:
        if self.held is None:
            self._built = []
            return [], []
        self._built, found = build_examples(self.suite, self.held)
        return self._built, found

    def get(self) -> list[Any]:
        return self._built if self._built is not None else self.build()[0]


def _model_checks(suite: Suite, specs: Sequence[ModelSpec], registry: Registry, held: Split | None,
                  conv: Conventions | None, examples: _Examples, facts_out: dict[str, ModelFacts]) -> list[Finding]:
    out: list[Finding] = []
    for spec in specs:
        provider = registry.providers.get(spec.provider)
        if provider is None:
            out.append(finding("unknown-provider", ERROR, "tokens", f"model {spec.name!r}: unknown provider "
                               f"{spec.provider!r} (known: {', '.join(sorted(registry.providers))})",
                               model=spec.name, file=spec.origin or None))
            continue
        try:
            facts = provider.model_facts(spec, suite)
        except InputError as exc:
            out.append(finding("model-options", ERROR, "tokens", f"model {spec.name!r}: {exc.one_line()}",
                               model=spec.name))
            continue
        if facts is None:
            out.append(finding("no-model-facts", INFO, "tokens", f"model {spec.name!r} ({spec.spec}): its provider "
                               "tells no tokenizer or context window, so its label tokens and lengths were not "
                               "checked", model=spec.name))
            continue
        facts_out[spec.name] = facts
        if facts.tokenizer is None:
            out.append(finding("no-model-facts", INFO, "tokens", f"model {spec.name!r} ({spec.spec}): no tokenizer "
                               "known offline, so its label tokens and lengths were not checked", model=spec.name,
                               hint="set the model option tokenizer"))
            continue
        space = conv.space if conv is not None and conv.space is not None else " "  # as the model was trained
        if facts.labels_scored:
            out += check_label_tokens(spec.name, facts, suite.labels, space)
        if held is not None:
            out += check_length(spec.name, facts, examples.get(), str(held.path))
    return out


#: Errors the run's reader raises too: when one is found, the reader is not asked (it would say it again).
_READER_ERRORS = frozenset({"file-not-found", "unreadable", "not-utf8", "malformed-json", "malformed-csv",
                            "missing-field", "bad-field", "bad-row", "unknown-label", "missing-id",
                            "duplicate-id", "no-examples", "duplicate", "template-invalid", "template-error"})


def _safety_net(suite: Suite, findings: list[Finding], held: Split | None = None) -> list[Finding]:
    """What the run's own reader says besides the errors already found: the reader stops at its first error, so
    for a JSONL file it is asked again on the rows no finding names yet, until it reads them all (at most
    :data:`_MAX_RETRIES` times); another file is asked only when the lenient reading found no reader error."""
    known = [f for f in findings if f.severity == ERROR and f.code in _READER_ERRORS]
    if known and (held is None or held.format not in ("openai-jsonl", "chat-jsonl")):
        return []
    if not known:
        try:
            suite.heldout  # the run's reading, kept by the suite: a run reads the file once  # noqa: B018
        except InputError as exc:
            return [_unreadable(exc.message, exc.line, exc.file)]
        return []
    assert held is not None
    skip = {line for f in known for line in f.rows}
    if any(not f.rows for f in known):  # a whole-file error (no examples, not found): nothing more to ask
        return []
    out: list[Finding] = []
    import tempfile

    lines = list(iter_lines(held.text))  # numbered as the readers number them
    with tempfile.TemporaryDirectory(prefix="harness-validate-") as tmp:
        for _ in range(_MAX_RETRIES):
            kept = [(i, text) for i, text in enumerate(lines, 1) if i not in skip]
            if not any(text.strip() for _, text in kept):
                break
            path = Path(tmp) / held.path.name
            path.write_text("".join(text for _, text in kept), encoding="utf-8", errors="surrogateescape")
            trial = replace(suite, data=suite.data.model_copy(update={"heldout": str(path)}))
            try:
                load_dataset(trial, "heldout")
                break
            except InputError as exc:
                line = kept[exc.line - 1][0] if exc.line and exc.line <= len(kept) else None
                if line is None or line in skip:
                    break
                out.append(_unreadable(exc.message, line, str(held.path)))
                skip.add(line)
    return out


_MAX_RETRIES = 20


def _unreadable(message: str, line: int | None, file: str | None) -> Finding:
    return finding("unreadable", ERROR, "data", f"the run cannot read the held-out file: {message}",
                   [line] if line else (), file=file)


def check_suite(suite: Suite | str | Path, models: Sequence[ModelSpec | str] = (), *, only: bool = False,
                registry: Registry | None = None, plugins: Sequence[str] = ()) -> Checked:
    with paused_gc():  # a million rows that all stay alive: not rescanned by the collector as they are read
        return _check_suite(suite, models, only, registry, plugins)


def _check_suite(suite: Suite | str | Path, models: Sequence[ModelSpec | str], only: bool,
                 registry: Registry | None, plugins: Sequence[str]) -> Checked:
    s = suite if isinstance(suite, Suite) else load_suite(suite)
    findings: list[Finding] = []
    held, f1 = _read(s, "heldout")
    train, f2 = _read(s, "train")
    findings += f1 + f2
    for split in (held, train):
        if split is not None:
            findings += split.findings
    findings += check_label_set(s.labels)
    conv = repeats = None
    examples = _Examples(s, held)
    if held is not None:
        conv = conventions(s.prompt.separator, held, train, "separator" in s.prompt.model_fields_set)
        findings += check_format(_Ctx(s, held, train), conv)
        if s.prompt.template is not None:  # only a template can fail on a row (or be invalid)
            findings += examples.build()[1]
        repeats = find_repeats(held, train, conv, s.prompt.separator)
        findings += check_duplicates(held, train, repeats)
        findings += check_size(held, train, s.labels, s.validate)
    specs = model_specs(s, models, only)
    facts: dict[str, ModelFacts] = {}
    if specs:
        registry = registry or load_registry(list(plugins))
        findings += _model_checks(s, specs, registry, held, conv, examples, facts)
    if held is not None:
        findings += _safety_net(s, findings, held)
    ignore = s.validate.ignore
    unknown = [c for c in ignore if c not in CODES]
    findings = without(findings, ignore)
    if unknown:
        findings.append(finding("unknown-ignore", WARNING, "data", f"validate.ignore names unknown finding codes: "
                                f"{', '.join(unknown)}", count=len(unknown), items=tuple(unknown),
                                file=str(s.path)))
    v = Validation(suite=s.name, findings=findings, models=[m.name for m in specs],
                   heldout=str(held.path) if held else None, train=str(train.path) if train else None,
                   n_heldout=len(held.usable) if held else 0)
    return Checked(v, s, held, train, conv, repeats, facts)


@dataclass
class _Ctx:
    suite: Suite
    heldout: Split
    train: Split | None


def validate(suite: Suite | str | Path, models: Sequence[ModelSpec | str] = (), *, only: bool = False,
             registry: Registry | None = None, plugins: Sequence[str] = ()) -> Validation:
    """Check a suite's data (and its models' label tokens and context windows) before anything is sent.

    ``suite``: a loaded :class:`~harness.suite.Suite`, a suite folder, a ``suite.yaml`` path or a bundled suite's
    name. ``models``: specs (``"ft=openai:ft:gpt-4o-mini:org::abc"`` or ``"openai:gpt-4o-mini"``) added to the
    suite's own (``only=True``: instead of them). Returns a :class:`~harness.validation.Validation`: its
    ``findings`` (errors first), ``errors``, ``warnings``, ``ok``, ``to_json()``. A suite.yaml that cannot be
    loaded raises :class:`~harness.errors.InputError`; problems in the data are findings, never exceptions."""
    return check_suite(suite, models, only=only, registry=registry, plugins=plugins).validation
