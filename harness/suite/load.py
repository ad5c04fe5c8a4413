"""Eval suites: ``suites/<name>/suite.yaml`` (safe-loaded) naming the data, labels, prompt, metrics and models.

The file's schema is :mod:`harness.suite.schema`; this module finds a suite, validates it and builds the
:class:`Suite` the runner and the providers read."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError, UsageError
from ..providers import ModelSpec
from .schema import (
    RULE_KINDS,
    DataSection,
    GateSection,
    PromptSection,
    SelectionSection,
    SuiteFile,
    ThresholdSection,
    ValidateSection,
)
from .yamlpos import Located, load_yaml


def parse_model_spec(name: str, text: str, origin: str = "--model", relative_to: Path | None = None) -> ModelSpec:
    """``PROVIDER:ARGUMENT`` (split at the first colon: ``openai:ft:gpt-4o-mini:org::id`` works).
    ``relative_to``: the folder relative paths in it are relative to (the suite's, for a suite's models)."""
    provider, _, argument = text.partition(":")
    if not provider.strip():
        raise UsageError(f"{origin}: model {name!r}: spec {text!r} must look like PROVIDER:ARGUMENT")
    return ModelSpec(name=name, provider=provider.strip(), argument=argument.strip(), origin=origin,
                     relative_to=relative_to)


def parse_cli_model(text: str) -> ModelSpec:
    """``NAME=PROVIDER:ARGUMENT`` from the command line."""
    name, eq, spec = text.partition("=")
    if not eq or not name.strip() or not spec.strip():
        raise UsageError(f"--model {text!r}: expected NAME=PROVIDER:ARGUMENT, e.g. finetuned=sklearn:model.skops")
    return parse_model_spec(name.strip(), spec.strip())


@dataclass
class Suite:
    """A loaded, validated suite. Data files are read lazily (see :mod:`harness.datasets`)."""

    path: Path  # the suite.yaml file
    name: str
    description: str
    data: DataSection
    labels: tuple[str, ...]
    display: dict[str, str]
    positive: str | None
    prompt: PromptSection
    metric_names: list[str] | None
    metric_options: dict[str, Any]
    models: list[ModelSpec]
    baseline: str | None
    gate: GateSection | None
    located: Located | None = field(default=None, repr=False)
    comparisons: list[tuple[str, str]] = field(default_factory=list)
    pricing: dict[str, dict[str, float]] = field(default_factory=dict)
    rate_limits: dict[str, dict[str, float | None]] = field(default_factory=dict)
    selection: SelectionSection = field(default_factory=SelectionSection)
    thresholds: ThresholdSection = field(default_factory=ThresholdSection)
    validate: ValidateSection = field(default_factory=ValidateSection)  # suite.yaml `validate:` (data checks)
    descriptions: dict[str, str] = field(default_factory=dict)  # label → its `description` (those that have one)
    # --allow-external-data: data files (and files its models name, such as a predictions file) may be outside
    # the suite folder
    allow_external_data: bool = False

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def task(self) -> str:
        return "binary" if len(self.labels) == 2 else "multiclass"

    def data_path(self, which: str = "heldout") -> Path | None:
        rel = getattr(self.data, which)
        return None if rel is None else (self.root / rel)

    def line_of(self, *path: Any) -> int | None:
        return self.located.line(path) if self.located else None

    @cached_property
    def heldout(self):  # -> Dataset
        from .datasets import load_dataset

        return load_dataset(self, "heldout")

    @cached_property
    def train(self):  # -> Dataset | None
        from .datasets import load_dataset

        return load_dataset(self, "train") if self.data.train else None

    @cached_property
    def validation(self):  # -> Dataset | None
        from .datasets import load_dataset

        return load_dataset(self, "validation") if self.data.validation else None


def find_suite(ref: str | Path, search: list[Path] | None = None) -> Path:
    """A suite by path (folder or suite.yaml) or by name under ./suites or the bundled demo suites."""
    p = Path(ref)
    if _probe(p, Path.is_dir):
        p = p / "suite.yaml"
    if _probe(p, Path.is_file):
        return p
    candidates = list(search or [])
    candidates.append(Path.cwd() / "suites")
    candidates.append(bundled_suites_dir())
    for base in candidates:
        cand = base / str(ref) / "suite.yaml"
        if _probe(cand, Path.is_file):
            return cand
    raise InputError("no such suite (give a folder containing suite.yaml, a suite.yaml path, "
                     f"or one of: {', '.join(bundled_suite_names()) or 'none'})", file=str(ref))


def _probe(path: Path, test: Any) -> bool:
    """``path.is_dir()`` / ``path.is_file()``, False for a path the system refuses (too long, a NUL character)."""
    try:
        return bool(test(path))
    except (OSError, ValueError):
        return False


def bundled_suites_dir() -> Path:
    import harness_suites

    return Path(harness_suites.__file__).parent


def bundled_suite_names() -> list[str]:
    base = bundled_suites_dir()
    return sorted(p.parent.name for p in base.glob("*/suite.yaml"))


def _most_useful_error(errors: list[Any]) -> Any:
    """An unknown key first (the likely typo), then anything but the "should be a string" alternative of a
    ``str | Mapping`` union (a mapping with a bad key would otherwise be reported as "not a string")."""
    def rank(err: Any) -> int:
        if err.get("type") == "extra_forbidden":
            return 0
        return 2 if "str" in err.get("loc", ()) else 1
    return min(errors, key=rank)


_UNION_TAGS = {"LabelSpec", "str", "ModelEntry", "literal['openai-jsonl','chat-jsonl','csv','tsv']", *RULE_KINDS}


def schema_error(exc: ValidationError, located: Located, prefix: tuple[Any, ...] = ()) -> InputError:
    """The most useful error of a failed validation, as one line naming the file, line and field."""
    err = _most_useful_error(exc.errors())
    loc = prefix + tuple(p for p in err.get("loc", ()) if not (isinstance(p, str) and p in _UNION_TAGS))
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    kind = err.get("type")
    if kind == "extra_forbidden":
        msg = "unknown field"
    elif kind in ("union_tag_not_found", "union_tag_invalid"):  # a gate rule without a known `kind`
        given = (err.get("ctx") or {}).get("tag")
        msg = (f"unknown rule kind {given!r}" if given is not None else "missing rule kind") + \
            f" (one of: {', '.join(RULE_KINDS)})"
        loc = loc + ("kind",)
    return located.error(msg, loc)


#: Every field of ``data:`` that names a file (all are confined to the suite folder alike).
DATA_PATH_FIELDS = ("heldout", "train", "validation")


def _check_data_paths(data: DataSection, path: Path, located: Located, allow_external: bool) -> None:
    """Data paths must be usable paths and, unless ``allow_external``, inside the suite folder (after following
    symlinks): a suite is often someone else's, and ``heldout: ../../.ssh/id_rsa`` must not read, echo or
    report a file of this machine."""
    root = path.parent.resolve()
    for which in DATA_PATH_FIELDS:
        rel = getattr(data, which)
        if rel is None:
            continue
        try:
            target = (path.parent / rel).resolve()
            target.is_file()
        except (OSError, ValueError) as exc:
            why = "it contains a NUL character" if isinstance(exc, ValueError) else (exc.strerror or str(exc))
            raise located.error(f"not a usable path: {why}", ("data", which)) from None
        if allow_external or target.is_relative_to(root):
            continue
        written = Path(os.path.normpath(path.parent.absolute() / rel))
        link = " (through a symlink)" if written.is_relative_to(path.parent.absolute()) else ""
        raise located.error(f"{rel!r} is outside the suite folder{link}: data files must be inside it; to read "
                            "data from elsewhere, pass --allow-external-data", ("data", which))


def load_suite(ref: str | Path, *, allow_external_data: bool = False) -> Suite:
    """Find, read and validate a suite. Its data files must be inside its folder unless
    ``allow_external_data`` (``harness run --allow-external-data``)."""
    path = find_suite(ref)
    located = load_yaml(path)
    if not isinstance(located.data, dict):
        raise InputError("a suite file must be a YAML mapping", file=path, line=1)
    data = located.data
    if isinstance(data.get("labels"), list):  # numeric labels are the text written: 010 is "010", not "8"
        data["labels"] = [located.as_written(("labels", i), lab) if not isinstance(lab, dict) or "name" not in lab
                          else {**lab, "name": located.as_written(("labels", i, "name"), lab["name"])}
                          for i, lab in enumerate(data["labels"])]
    if "positive" in data:
        data["positive"] = located.as_written(("positive",), data["positive"])
    try:
        parsed = SuiteFile.model_validate(data)
    except ValidationError as exc:
        raise schema_error(exc, located) from None
    _check_data_paths(parsed.data, path, located, allow_external_data)

    labels = tuple(lab if isinstance(lab, str) else lab.name for lab in parsed.labels)
    display = {lab if isinstance(lab, str) else lab.name:
               (lab if isinstance(lab, str) else (lab.display or lab.name)) for lab in parsed.labels}
    descriptions = {lab.name: lab.description for lab in parsed.labels
                    if not isinstance(lab, str) and lab.description is not None}
    for i, lab in enumerate(labels):
        if lab != lab.strip():
            raise located.error("label names must not start or end with spaces (the leading space of a "
                                "completion is handled for you)", ("labels", i))
    positive = parsed.positive
    if positive is not None and positive not in labels:
        raise located.error(f"positive class {positive!r} is not one of the labels", ("positive",))
    if positive is None and len(labels) == 2:
        positive = labels[1]

    models: list[ModelSpec] = []
    for name, entry in parsed.models.items():
        origin = f"{path}:{located.line(('models', name))}"
        if isinstance(entry, str):
            models.append(parse_model_spec(name, entry, origin, relative_to=path.parent))
        else:
            models.append(ModelSpec(name=name, provider=entry.provider, argument=entry.argument,
                                    options=entry.options, origin=origin, relative_to=path.parent))
    if parsed.baseline is not None and parsed.baseline not in parsed.models:
        # expanded names (job/base) are checked again after resolution
        if "/" not in parsed.baseline:
            raise located.error(f"baseline {parsed.baseline!r} is not one of the models", ("baseline",))

    return Suite(path=path, name=parsed.name or path.absolute().parent.name, description=parsed.description,
                 data=parsed.data, labels=labels, display=display, positive=positive, prompt=parsed.prompt,
                 metric_names=parsed.metrics, metric_options=parsed.metric_options, models=models,
                 baseline=parsed.baseline, gate=parsed.gate, located=located,
                 comparisons=[(a, b) for a, b in parsed.comparisons],
                 pricing={k: v.model_dump() for k, v in (parsed.pricing or {}).items()},
                 rate_limits={k: v.model_dump() for k, v in (parsed.rate_limits or {}).items()},
                 selection=parsed.selection or SelectionSection(),
                 thresholds=parsed.thresholds or ThresholdSection(),
                 validate=parsed.validate_, descriptions=descriptions, allow_external_data=allow_external_data)
