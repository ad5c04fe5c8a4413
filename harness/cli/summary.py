"""The summary table printed after a run."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def best_models(results: dict[str, Any]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(metric name → names of the models with the best value (ties included), metric name → models not
    ranked because their value is on a different example set)."""
    from ..metrics import ranked_group

    best: dict[str, set[str]] = {}
    unranked: dict[str, set[str]] = {}
    for m in results["metrics"]:
        vals = [(mod["name"], mod["metrics"].get(m["name"], {})) for mod in results["models"]]
        vals = [(n, v["value"], v.get("subset")) for n, v in vals if v.get("value") is not None]
        if not vals:
            continue
        group = ranked_group(vals)
        unranked[m["name"]] = {n for n, _, _ in vals if n not in group}
        ranked = [(n, v) for n, v, _ in vals if n in group]
        if not ranked:
            continue
        pick = max if m["higher_is_better"] else min
        target = pick(v for _, v in ranked)
        best[m["name"]] = {n for n, v in ranked if abs(v - target) <= 1e-12}
    return best, unranked


def print_summary(results: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    if not console.is_terminal:
        console.width = max(console.width, 200)  # CI logs: never wrap the table into unreadable columns
    best, unranked = best_models(results)
    n_examples = results['suite']['dataset']['n_examples']
    table = Table(title=f"{results['suite']['name']} — {n_examples} held-out "
                        f"examples ({results['suite']['task']})", title_justify="left")
    table.add_column("model", no_wrap=True)
    metrics = results["metrics"]
    for m in metrics:
        arrow = "↑" if m["higher_is_better"] else "↓"
        table.add_column(f"{m['name']} {arrow}", justify="right", no_wrap=True)
    table.add_column("invalid/failed", justify="right", no_wrap=True)
    notes: list[str] = []
    for mod in results["models"]:
        cells = [mod["name"]]
        for m in metrics:
            v = mod["metrics"].get(m["name"], {})
            if v.get("value") is None:
                cells.append("n/a")
            else:
                text = f"{v['value']:.4f}"
                if mod["name"] in unranked.get(m["name"], ()):
                    text += "†"
                cells.append(f"[bold green]{text}*[/]" if mod["name"] in best.get(m["name"], ()) else text)
        c = mod["counts"]
        cells.append(f"{c['invalid']}/{c['failed']}")
        table.add_row(*cells)
        if mod.get("scored") is False:
            notes.append(f"{mod['name']}: not scored — {mod.get('not_scored_reason', 'it answered no example')}; "
                         "no metrics, left out of the comparisons")
        elif c.get("failed"):
            notes.append(f"{mod['name']}: {c['failed']} of {c['n']} examples failed — counted as wrong in label "
                         "metrics; probability metrics use the examples with probabilities")
    console.print(table)
    console.print("* best value; n/a = not available (reason in results.json)"
                  + ("; † computed on fewer examples than the others (a different example set): not ranked"
                     if any(unranked.values()) else ""), style="dim")
    for note in notes:
        console.print(note, style="yellow")


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
    if not comp or not (comp.get("pairs") or comp.get("skipped")):
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
    subset = False
    for pair in comp.get("pairs", []):
        cells = [f"{pair['a']} vs {pair['b']}"]
        for m in metrics:
            row = pair["metrics"].get(m["name"])
            cell = comparison_cell(row, m["higher_is_better"], alpha) if row else "-"
            if row and row.get("delta") is not None and row.get("n") is not None and row["n"] < pair.get("n", 0):
                cell += "†"
                subset = True
            cells.append(cell)
        mde = pair.get("mde_accuracy")
        cells.append("-" if mde is None else f"{mde:.3f}")
        table.add_row(*cells)
    if not comp.get("pairs"):
        for skipped in comp.get("skipped") or []:
            console.print(f"not compared: {skipped['a']} vs {skipped['b']} — {skipped['reason']}", style="yellow")
        return
    console.print(table)
    omni = comp.get("omnibus")
    if omni:
        console.print(f"{omni['test']} across all models: p = {omni['p_value']:.3g}", style="dim")
    if subset:
        console.print("† on the examples where both models give probabilities (n per metric in results.json)",
                      style="dim")
    mde = comp.get("mde") or {}
    level = f" at alpha = {mde['alpha']:.3g} ({mde.get('rule', '')})" if mde.get("alpha") is not None else ""
    console.print(f"MDE: the smallest accuracy difference this held-out set detects with 80% power{level}",
                  style="dim")
    if any(p.get("mde_accuracy") is None and p.get("n") for p in comp.get("pairs", [])):
        console.print("MDE -: no difference is detectable at that power (the two models disagree on too few "
                      "examples)", style="dim")
    for skipped in comp.get("skipped") or []:
        console.print(f"not compared: {skipped['a']} vs {skipped['b']} — {skipped['reason']}", style="yellow")
    for note in comp.get("notes") or []:
        console.print(note, style="dim")
    print_verdict(results, console)


_STYLE = {"better": "bold green", "worse": "bold red", "mixed": "bold yellow"}


def print_verdict(results: dict[str, Any], console: Console | None = None) -> None:
    """The verdict of results.json (docs/report.md, "Verdict"): the headline, each comparison per metric
    family, and how the model to ship was chosen."""
    v = results.get("verdict")
    if not isinstance(v, dict) or not v.get("headline"):
        return
    console = console or Console()
    console.print(f"verdict: {v['headline']}", style="bold", highlight=False, markup=False)
    for pair in v.get("pairs") or []:
        console.print(f"  {pair['sentence']}", style=_STYLE.get(pair.get("call"), ""), highlight=False,
                      markup=False)
    sel = v.get("selection") or {}
    if sel.get("recommended"):
        console.print(f"  best set on {sel['metric']} ({sel['chosen_on']}, α = {sel['alpha']:g}): "
                      f"{', '.join(sel['members'])}; tie-break: {'; '.join(sel.get('tie_break') or [])}",
                      highlight=False, markup=False)
        conf = sel.get("confirmation")
        if conf and conf.get("sentence"):
            console.print(f"  confirmed on held-out: {conf['sentence']}", highlight=False, markup=False)
        if sel.get("note"):
            console.print(f"  {sel['note']}", style="dim", highlight=False, markup=False)
    elif sel.get("reason"):
        console.print(f"  no best set: {sel['reason']}", style="dim", highlight=False, markup=False)
