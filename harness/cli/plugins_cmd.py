"""``harness plugins``: what is loaded, with versions and what each plugin registers."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from .common import PLUGIN_OPT, registry_from


def plugins(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    plugin: list[str] | None = PLUGIN_OPT,
) -> None:
    """List loaded plugins (built-in, entry points, --plugin) and the metrics and providers they add."""
    registry = registry_from(plugin)
    if as_json:
        typer.echo(json.dumps([{"name": p.plugin, "version": p.version, "source": p.source,
                                "metrics": p.metrics, "providers": p.providers} for p in registry.plugins],
                              indent=2))
        return
    table = Table(title="harness plugins", title_justify="left")
    for col in ("plugin", "version", "source", "metrics", "providers"):
        table.add_column(col, overflow="fold")
    for p in registry.plugins:
        table.add_row(p.plugin, p.version or "-", p.source, ", ".join(p.metrics) or "-",
                      ", ".join(p.providers) or "-")
    Console(width=160).print(table)
