"""Options and helpers shared by several commands."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import typer
import yaml

from .. import yamlload
from ..errors import UsageError
from ..plugins import Registry, load_registry
from ..providers import ModelSpec
from ..suite import parse_cli_model

PLUGIN_OPT = typer.Option(None, "--plugin", help="Load a local plugin: a module name or a .py file. Repeatable.")
QUIET_OPT = typer.Option(False, "--quiet", "-q", help="No progress or status lines on stderr (errors and "
                                                       "warnings still); stdout keeps the tables.")
VERBOSE_OPT = typer.Option(False, "--verbose", "-v", help="More detail on stderr: the run's settings, every "
                                                           "failure reason, timings.")


def registry_from(plugins: list[str] | None) -> Registry:
    return load_registry(plugins or [])


def parse_option_assignments(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """``NAME.KEY=VALUE`` (VALUE parsed as YAML: true, 3, [a, b]) → {NAME: {KEY: VALUE}}."""
    out: dict[str, dict[str, Any]] = {}
    for item in items or []:
        target, eq, value = item.partition("=")
        name, dot, key = target.rpartition(".")
        if not eq or not dot or not name or not key:
            raise UsageError(f"--option {item!r}: expected MODEL.KEY=VALUE, e.g. finetuned.seed=7")
        try:
            parsed = yamlload.load(value) if value else ""
        except (yamlload.BoundedAliasError, yamlload.DuplicateKeyError) as exc:
            raise UsageError(f"--option {target}: {yamlload.describe_error(exc)[0]}") from None
        except yaml.YAMLError:
            parsed = value
        out.setdefault(name, {})[key] = parsed
    return out


def cli_models(models: list[str] | None, options: list[str] | None) -> tuple[list[ModelSpec], dict[str, dict]]:
    specs = [parse_cli_model(m) for m in models or []]
    return specs, parse_option_assignments(options)


def apply_options(specs: list[ModelSpec], opts: dict[str, dict[str, Any]]) -> list[ModelSpec]:
    names = {s.name for s in specs}
    for name in opts:
        if name not in names:
            raise UsageError(f"--option {name}.…: no model named {name!r} (models: {', '.join(sorted(names))})")
    return [replace(s, options={**dict(s.options), **opts.get(s.name, {})}) for s in specs]


def default_out(suite_name: str) -> Path:
    return Path("harness-runs") / suite_name


def parse_share(value: str, option: str) -> float:
    """``0.1``, ``10%`` or ``0`` → a share in [0, 1] (``--max-failed``)."""
    text = value.strip()
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise UsageError(f"{option} {value!r}: give a share between 0 and 1 (0.1) or a percentage (10%)")
    return share
