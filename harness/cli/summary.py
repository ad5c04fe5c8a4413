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


def comparison_cell(row: dict[str, Any], higher_is_better: bool, alpha: float) -> str:
    """``+0.0123▲``: the delta, marked when significant after the run's correction (▲ better, ▼ worse)."""
    delta = row.get("delta")
    if delta is None:
        return "n/a"
    p = row.get("p_adjusted", row.get("p_value"))
    text = f"{delta:+.4f}"
    if p is None or p >= alpha or delta == 0:
        return text
    better = (delta > 0) == higher_is_better
    return f"[bold green]{text}▲[/]" if better else f"[bold red]{text}▼[/]"


def print_comparisons(results: dict[str, Any], console: Console | None = None) -> None:
    """One row per comparison (A vs B), one column per metric: the delta A - B, marked when significant."""
    comp = results.get("comparisons")
    if not comp or not comp.get("pairs"):
        return
    console = console or Console()
    if not console.is_terminal:
        console.width = max(console.width, 200)
    alpha = float(comp.get("alpha", 0.05))
    metrics = results["metrics"]
    table = Table(title=f"paired comparisons: delta A - B; ▲/▼ significant at alpha={alpha:g} after "
                        f"{comp.get('correction', 'no')} correction", title_justify="left")
    table.add_column("A vs B", no_wrap=True)
    for m in metrics:
        table.add_column(m["name"], justify="right", no_wrap=True)
    table.add_column("MDE (acc.)", justify="right", no_wrap=True)
    for pair in comp["pairs"]:
        cells = [f"{pair['a']} vs {pair['b']}"]
        for m in metrics:
            row = pair["metrics"].get(m["name"])
            cells.append(comparison_cell(row, m["higher_is_better"], alpha) if row else "-")
        mde = pair.get("mde_accuracy")
        cells.append("-" if mde is None else f"{mde:.3f}")
        table.add_row(*cells)
    console.print(table)
    omni = comp.get("omnibus")
    if omni:
        console.print(f"{omni['test']} across all models: p = {omni['p_value']:.3g}", style="dim")
    console.print("MDE: the smallest accuracy difference this held-out set detects with 80% power",
                  style="dim")
