"""``harness gate RESULTS``: judge a run against its rules; the exit code is the verdict (see the README)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from ..output.results import atomic_write
from .common import PLUGIN_OPT, registry_from

if TYPE_CHECKING:  # the gate loads with the command: `harness --help` does not import numpy
    from ..runner.gate import GateRequest

STYLE = {"pass": "green", "fail": "bold red", "inconclusive": "yellow", "not_judged": "bold red", "skipped": "dim"}


def print_verdict(verdict: dict[str, Any], console: Console) -> None:
    """The console table: rule, candidate, reference, delta, bounds, p, verdict, reason in words."""
    from ..output.gate_formats import ICONS, num, pval

    if not console.is_terminal:
        console.width = max(console.width, 220)
    conf = f"{1 - verdict['alpha']:.0%} " if verdict.get("alpha") else ""
    cand = (verdict.get("candidate") or {}).get("name")
    ref = verdict.get("reference") or {}
    title = f"gate: {cand} vs {ref.get('name')}" + (f" ({ref['source']})" if ref.get("source") else "")
    table = Table(title=title, title_justify="left")
    for col, just in (("rule", "left"), ("candidate", "right"), ("reference", "right"), ("delta", "right"),
                      (f"{conf}bounds", "left"), ("p", "right"), ("verdict", "left"), ("reason", "left")):
        table.add_column(col, justify=just, overflow="fold", no_wrap=col not in ("reason", "rule"))  # type: ignore[arg-type]
    for r in verdict.get("rules") or []:
        b = r.get("bounds") or {}
        word = r.get("verdict") or ""
        p = pval(r.get("p_value"))
        if r.get("p_adjusted") is not None and r.get("p_adjusted") != r.get("p_value"):
            p += f" (Holm {pval(r['p_adjusted'])})"
        table.add_row(r.get("rule") or "", num(r["candidate"]) if r.get("candidate") is not None else "",
                      num(r["reference"]) if r.get("reference") is not None else "",
                      num(r["delta"], signed=True) if r.get("delta") is not None else "",
                      f"[{num(b['lower'])}, {num(b['upper'])}]" if b.get("lower") is not None else "", p,
                      f"[{STYLE.get(word, '')}]{ICONS.get(word, '')} {word.replace('_', ' ')}[/]",
                      r.get("reason") or "")
    console.print(table)
    for note in verdict.get("notes") or []:
        console.print(f"note: {note}", style="yellow", markup=False, highlight=False)
    style = {"passed": "bold green", "failed": "bold red"}.get(verdict.get("status") or "", "bold red")
    console.print(f"{verdict.get('summary')} (exit code {verdict.get('exit_code')})", style=style, markup=False,
                  highlight=False)


def emit(verdict: dict[str, Any], console: Console, junit: Path | None = None, markdown_file: Path | None = None,
         json_file: Path | None = None) -> int:
    """Print the verdict, write the files asked for (and the step summary on GitHub Actions); the exit code."""
    from ..output.gate_formats import junit_xml, markdown, write_json

    print_verdict(verdict, console)
    if json_file is not None:
        write_json(json_file, verdict)
    if junit is not None:
        atomic_write(Path(junit), junit_xml(verdict))
    text = markdown(verdict)
    if markdown_file is not None:
        atomic_write(Path(markdown_file), text)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return int(verdict["exit_code"])


def run_gate(request: GateRequest, plugins: list[str] | None, console: Console, junit: Path | None = None,
             markdown_file: Path | None = None, json_file: Path | None = None) -> int:
    """Judge and emit. A gate that cannot read its input still writes its files (one unjudged rule)."""
    from ..analysis.gate import CannotJudge, unjudged_json
    from ..runner.gate import gate

    try:
        verdict = gate(request, registry_from(plugins)).to_json()
    except CannotJudge as exc:
        verdict = unjudged_json(exc.one_line(), request.candidate, request.against, request.strict)
    return emit(verdict, console, junit, markdown_file, json_file)


def gate_command(
    results: Path = typer.Argument(..., help="results.json, or the run folder holding it."),
    candidate: str | None = typer.Option(None, "--candidate", help="The model to judge (default: the "
                                         "rules' `candidate`, else the one model that is not the reference)."),
    against: str | None = typer.Option(None, "--against", help="The reference model: in RESULTS, or in "
                                       "--baseline (default: the rules' `against`, else the run's baseline; with "
                                       "--baseline, the candidate's name)."),
    baseline: Path | None = typer.Option(None, "--baseline", help="A stored run (results.json or its folder, "
                                         "e.g. production's, committed) to compare against, paired on example "
                                         "ids; its held-out data must be the same file."),
    rules: Path | None = typer.Option(None, "--rules", help="A rules file (default: the suite's `gate:` "
                                      "section, else the documented defaults)."),
    strict: bool = typer.Option(False, "--strict", help="Inconclusive rules fail (default: pass with a warning)."),
    junit: Path | None = typer.Option(None, "--junit", help="Write JUnit XML: one test case per rule."),
    markdown_file: Path | None = typer.Option(None, "--markdown", help="Write a Markdown summary (also appended "
                                              "to $GITHUB_STEP_SUMMARY when set)."),
    json_file: Path | None = typer.Option(None, "--json", help="Write the verdict as JSON (format harness.gate)."),
    plugin: list[str] | None = PLUGIN_OPT,
) -> None:
    """Gate a run: exit 0 passed, 4 a rule failed, 3 could not judge (fails closed), 2 bad usage or rules."""
    from ..runner.gate import GateRequest

    request = GateRequest(results, candidate, against, baseline, rules, strict)
    code = run_gate(request, plugin, Console(), junit, markdown_file, json_file)
    raise typer.Exit(code)
