"""``harness plugins``: what is loaded, with versions and what each plugin registers."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..plugins import Registered, Registry
from .common import PLUGIN_OPT, registry_from


def plugins(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    plugin: list[str] | None = PLUGIN_OPT,
) -> None:
    """List loaded plugins (built-in, entry points, --plugin) and the metrics and providers they add."""
    registry = registry_from(plugin)
    for provider in registry.providers.values():  # options models build when first used: check them here
        provider.check_options_model()
    clashes = registry.clash_messages()
    for message in clashes:  # stderr, so --json stays parseable; a run that uses the name fails with it
        typer.echo(f"warning: {message}; runs that use it fail, the others are unaffected", err=True)
    if as_json:
        typer.echo(json.dumps([_entry(p, registry) for p in registry.plugins], indent=2))
        return
    table = Table(title="harness plugins", title_justify="left")
    for col in ("plugin", "version", "source", "metrics", "providers"):
        table.add_column(col, overflow="fold")
    for p in registry.plugins:
        table.add_row(escape(p.plugin), escape(p.version or "-"), p.source,
                      escape(", ".join(_marked(m, registry.metric_clashes) for m in p.metrics) or "-"),
                      escape(", ".join(_marked(m, registry.provider_clashes) for m in p.providers) or "-"))
    console = Console(width=160)
    console.print(table)
    if clashes:
        console.print("(clash) = registered by more than one plugin: see the warning above", markup=False)


def _marked(name: str, clashes: dict[str, list[str]]) -> str:
    return f"{name} (clash)" if name in clashes else name


def _entry(p: Registered, registry: Registry) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": p.plugin, "version": p.version, "source": p.source, "metrics": p.metrics,
                             "providers": p.providers}
    clashing = [m for m in p.metrics if m in registry.metric_clashes] + \
        [f"provider:{n}" for n in p.providers if n in registry.provider_clashes]
    if clashing:  # present only when there is one: names another plugin registers too
        entry["clashes"] = clashing
    return entry
