"""``harness report RESULTS --format md``: a GitHub-flavoured Markdown summary for a pull-request comment or
``$GITHUB_STEP_SUMMARY`` — the verdict, the data checks' errors and warnings, the compact delta table and the few
most important flips (the candidate's most confident broken examples, then its most confident fixed ones). Every
piece of text from the results, the predictions or the data is escaped (``harness.output.gate_formats.md``): it
shows as typed and never becomes a link, an image or HTML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.output.gate_formats import md

from . import examples as examples_mod
from . import sections, verdict
from .charts import model_styles
from .tables import group_by_model
from .validation import validation_notices

FLIPS = 5  # of each kind (broken, fixed)
TEXT_CHARS = 120


def _cell(text: str) -> str:
    return md(text) or " "


def render_markdown(results: dict[str, Any], predictions: Sequence[dict[str, Any]],
                    texts: Mapping[str, str] | None = None) -> str:
    head = sections.header(results)
    names = sections.model_names(results)
    styles = model_styles(names, head["baseline"])
    out = [f"## harness · {md(head['name'])}", ""]
    v = verdict.verdict_section(results, styles)
    if v is None:
        out += ["_No verdict in this results file (written by an older harness, or run with `--no-stats`)._", ""]
    else:
        out += [f"**Verdict:** {md(v['headline'])}", ""]
        out += _families(v)
        sel = v["selection"]
        if sel and not sel["reason"]:
            out += [f"Best set on {md(sel['metric'])} (chosen on the {md(sel['chosen_on'])} "
                    f"{'split' if sel['chosen_on'] == 'validation' else 'set'}): "
                    + ", ".join(md(m) for m in sel["members"])
                    + f"; tie-break: {md('; '.join(sel['tie_break']))}.", ""]
            if sel["optimistic"]:
                out += [f"> {md(sel['note'])}.", ""]
            elif sel["confirmation"]:
                out += [f"Confirmed on held-out: {md(sel['confirmation']['sentence'])}.", ""]
    checks = validation_notices(results)  # what was wrong with the data, as the HTML report says at its top
    out += [f"> {md(notice)}" for notice in checks] + [""] if checks else []
    comp = sections.comparisons(results)
    out += _deltas(results, comp)
    out += _flips(results, predictions, texts or {}, comp, styles)
    out.append("<sub>harness " + md(head["harness_version"]) + " · the full report: report.html beside "
               "results.json</sub>")
    return "\n".join(out) + "\n"


def _families(v: dict[str, Any]) -> list[str]:
    if not v["pairs"]:
        return []
    fams = v["families"]
    lines = ["| Comparison | Overall | " + " | ".join(f["title"] for f in fams) + " |",
             "|---|---|" + "---|" * len(fams)]
    for p in v["pairs"]:
        cells = []
        for f in fams:
            fam = p["families"].get(f["key"])
            if fam is None:
                cells.append("—")
                continue
            moved = ", ".join(f"{m['metric']} {m['delta']}" for m in fam["moved"][:2])
            cells.append(f"{fam['mark']} {md(fam['word'])}" + (f" ({md(moved)})" if moved else ""))
        lines.append(f"| {_cell(p['a'])} vs {_cell(p['b'])} | {p['mark']} {md(p['word'])} | " + " | ".join(cells)
                     + " |")
    return lines + [""]


def _deltas(results: dict[str, Any], comp: dict[str, Any] | None) -> list[str]:
    if not comp or not comp["pairs"]:
        return []
    metrics = sections.metric_meta(results)
    lines = [f"**Deltas** (A − B; ▲ better, ▼ worse: significant at α = {comp['alpha']} after Holm; MDE: the "
             "smallest accuracy difference this held-out set detects with 80% power)", "",
             "| A vs B | " + " | ".join(f"{md(m['title'])} {m['arrow']}" for m in metrics) + " | MDE |",
             "|---|" + "---:|" * (len(metrics) + 1)]
    for pair in comp["pairs"]:
        by = {r["metric"]: r for r in pair["rows"]}
        cells = []
        for m in metrics:
            r = by.get(m["title"])
            mark = "" if r is None else "▲" if r["kind"] == "better" else "▼" if r["kind"] == "worse" else ""
            cells.append("—" if r is None else f"{r['delta']}{mark}")
        lines.append(f"| {_cell(pair['a'])} vs {_cell(pair['b'])} | " + " | ".join(cells)
                     + f" | {pair['mde'] or '—'} |")
    return lines + [""]


def _flips(results: dict[str, Any], predictions: Sequence[dict[str, Any]], texts: Mapping[str, str],
           comp: dict[str, Any] | None, styles: dict[str, Any]) -> list[str]:
    head = sections.header(results)
    groups = group_by_model(predictions, sections.model_names(results))
    cand = (results.get("verdict") or {}).get("candidate")
    ex = examples_mod.examples_section(groups, head["labels"], texts, [(p["a"], p["b"]) for p in
                                       (comp or {}).get("pairs", [])], cand if isinstance(cand, str) else None,
                                       head["baseline"], styles)
    if not ex or not ex["pairs"]:
        return []
    main = next(p for p in ex["pairs"] if p["main"])
    idx = main["index"]
    col = {m["name"]: j for j, m in enumerate(ex["models"])}
    a, b = main["a"], main["b"]
    lines = [f"**Most important flips** ({md(a)} vs {md(b)}: {ex['counts'].get('broken', 0)} broken, "
             f"{ex['counts'].get('fixed', 0)} fixed; the most confident of each)", "",
             f"| | Example | Gold | {_cell(b)} | {_cell(a)} |", "|---|---|---|---|---|"]
    shown = 0
    for kind in ("broken", "fixed"):
        rows = [r for r in ex["rows"] if r["flips"][idx] == kind][:FLIPS]
        for r in rows:
            text = r["text"] if len(r["text"]) <= TEXT_CHARS else r["text"][: TEXT_CHARS - 1] + "…"
            cb, ca = r["cells"][col[b]], r["cells"][col[a]]
            lines.append(f"| {kind} | {md(r['id'])}: {md(text)} | {_cell(r['gold'])} | "
                         f"{_cell(cb['label'])} {cb['prob']} | {_cell(ca['label'])} {ca['prob']} |")
            shown += 1
    return lines + [""] if shown else []


def write_markdown(results_path: Any, out: Any = None) -> str:
    """The Markdown summary of a results file (and its predictions and example texts); written to ``out``
    when given. Returns the text."""
    from pathlib import Path

    from harness.errors import InputError
    from harness.output.results import atomic_write, load_predictions, load_results

    from .render import side_files

    results = load_results(Path(results_path))
    try:
        preds = load_predictions(Path(results_path), results)
    except InputError:
        preds = []
    texts, _ = side_files(Path(results_path), results, [])
    text = render_markdown(results, preds, texts)
    if out is not None:
        atomic_write(Path(out), text)
    return text
