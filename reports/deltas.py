"""Compact comparisons: the delta matrix (one row per comparison, one column per metric: Δ = A − B, ▲/▼ where
significant after Holm, the minimum detectable accuracy difference) and a forest plot of the deltas with
their intervals, one small panel per metric. The full per-pair tables follow, folded (``_comparisons``)."""

from __future__ import annotations

from typing import Any

from . import figures
from .charts import Style, draw
from .sections import metric_meta


def delta_matrix(results: dict[str, Any], comp: dict[str, Any] | None, styles: dict[str, Style]
                 ) -> dict[str, Any] | None:
    if not comp or not comp["pairs"]:
        return None
    metrics = metric_meta(results)
    title_of = {m["title"]: m for m in metrics}
    rows = []
    for pair in comp["pairs"]:
        by_title = {r["metric"]: r for r in pair["rows"]}
        cells = []
        for m in metrics:
            r = by_title.get(m["title"])
            if r is None:
                cells.append({"text": "—", "kind": "none", "title": "not compared", "mark": ""})
                continue
            ci = f" [{r['low']}, {r['high']}]" if r["has_ci"] else ""
            tip = f"{m['title']}: Δ {r['delta']}{ci}, adjusted p {r['p_adj']} — {r['verdict']}"
            if r["reason"]:
                tip += f" ({r['reason']})"
            cells.append({"text": r["delta"], "kind": r["kind"], "title": tip,
                          "mark": "▲" if r["kind"] == "better" else "▼" if r["kind"] == "worse" else ""})
        rows.append({"a": pair["a"], "b": pair["b"], "style_a": styles.get(pair["a"]), "cells": cells,
                     "b_is_baseline": pair["b_is_baseline"], "mde": pair["mde"] or "—"})
    panels = []
    for m in metrics:
        items = []
        for pair in comp["pairs"]:
            r = next((x for x in pair["rows"] if x["metric"] == m["title"]), None)
            if r is None or r["d"] is None:
                continue
            items.append(figures.ForestItem(f"{pair['a']} vs {pair['b']}", r["d"], r["lo"], r["hi"], r["kind"]))
        if items:
            panels.append(figures.ForestPanel(m["title"] + (" ↑" if m["higher_is_better"] else " ↓"), items))
    forest = draw(figures.forest_chart, panels, "forest") if panels else None
    return {"columns": [title_of[t] for t in title_of], "rows": rows, "forest": forest,
            "mde_alpha": comp["mde_alpha"], "alpha": comp["alpha"]}

