"""The summary table printed after a run."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def best_models(results: dict[str, Any]) -> dict[str, set[str]]:
    """metric name → names of the models with the best value (ties included)."""
    best: dict[str, set[str]] = {}
    for m in results["metrics"]:
        vals = [(mod["name"], mod["metrics"].get(m["name"], {}).get("value")) for mod in results["models"]]
        vals = [(n, v) for n, v in vals if v is not None]
        if not vals:
            continue
        pick = max if m["higher_is_better"] else min
        target = pick(v for _, v in vals)
        best[m["name"]] = {n for n, v in vals if abs(v - target) <= 1e-12}
    return best


def print_summary(results: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    if not console.is_terminal:
        console.width = max(console.width, 200)  # CI logs: never wrap the table into unreadable columns
    best = best_models(results)
    table = Table(title=f"{results['suite']['name']} — {results['suite']['dataset']['n_examples']} held-out "
                        f"examples ({results['suite']['task']})", title_justify="left")
    table.add_column("model", no_wrap=True)
    metrics = results["metrics"]
    for m in metrics:
        arrow = "↑" if m["higher_is_better"] else "↓"
        table.add_column(f"{m['name']} {arrow}", justify="right", no_wrap=True)
    table.add_column("invalid/failed", justify="right", no_wrap=True)
    for mod in results["models"]:
        cells = [mod["name"]]
        for m in metrics:
            v = mod["metrics"].get(m["name"], {})
            if v.get("value") is None:
                cells.append("n/a")
            else:
                text = f"{v['value']:.4f}"
                cells.append(f"[bold green]{text}*[/]" if mod["name"] in best.get(m["name"], ()) else text)
        c = mod["counts"]
        cells.append(f"{c['invalid']}/{c['failed']}")
        table.add_row(*cells)
    console.print(table)
    console.print("* best value; n/a = not available (reason in results.json)", style="dim")
