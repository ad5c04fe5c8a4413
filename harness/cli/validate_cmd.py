"""``harness validate SUITE``: the data checks, as a table or JSON; ``--fix OUT`` writes a corrected copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..suite import load_suite
from .common import PLUGIN_OPT, apply_options, cli_models, registry_from

if TYPE_CHECKING:  # the checks load with the command: `harness --help` does not import numpy
    from ..validation import Finding, Validation

EXIT_FINDINGS = 2  # errors found: bad input, like every other input error (README, "Exit codes")


def validate(
    suite: str = typer.Argument(..., help="Suite folder, suite.yaml path, or the name of a bundled suite."),
    model: list[str] | None = typer.Option(None, "--model", "-m", help="NAME=PROVIDER:ARGUMENT (or PROVIDER:ARGUMENT)"
                                              ": also check labels and lengths under this model's tokenizer and "
                                              "context window. Repeatable."),
    option: list[str] | None = typer.Option(None, "--option", "-o",
                                               help="MODEL.KEY=VALUE provider option (e.g. m.context_window=8192). "
                                                    "Repeatable."),
    only: bool = typer.Option(False, "--only", help="Check only the --model models, not the suite's."),
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
    fix: Path | None = typer.Option(None, "--fix", help="Write a corrected copy to this new folder (a whole suite) "
                                       "or .jsonl/.csv/.tsv file (the held-out file); never overwrites the input."),
    strict: bool = typer.Option(False, "--strict", help="Exit 2 on warnings too, not only on errors."),
    allow_external_data: bool = typer.Option(False, "--allow-external-data",
                                             help="Read data files outside the suite folder (refused by default)."),
    plugin: list[str] | None = PLUGIN_OPT,
) -> None:
    """Check a suite's data before money is spent: format parity with training, labels and their tokens,
    lengths, duplicates and leakage, size and balance. Exit code 2 when there are errors."""
    from ..validation import check_suite, model_specs
    from ..validation.fix import fix_suite, revalidation_suite

    registry = registry_from(plugin)
    loaded = load_suite(suite, allow_external_data=allow_external_data)
    specs, opts = cli_models([m if _named(m) else f"{m}={m}" for m in model or []], option)
    specs = apply_options(model_specs(loaded, specs, only), opts)
    checked = check_suite(loaded, specs, only=True, registry=registry)
    v = checked.validation
    fixed = None
    if fix is not None:
        report = fix_suite(checked, fix)
        fixed = {"out": str(report.out), "heldout": str(report.heldout), "changes": report.changes,
                 "removed": report.removed, "edited": report.edited,
                 "not_fixed": [f.to_json() for f in report.unfixed]}
        again = check_suite(revalidation_suite(loaded, report), specs, only=True, registry=registry).validation
        fixed["revalidated"] = again.summary()
        fixed["remaining"] = [f.to_json() for f in again.findings if f.severity != "info"]
    if as_json:
        out = v.to_json()
        if fixed is not None:
            out["fix"] = fixed
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print_validation(v)
        if fixed is not None:
            print_fix(fixed)
    final = again if fix is not None else v  # with --fix, the exit code is the corrected copy's
    if final.errors or (strict and final.warnings):
        raise typer.Exit(EXIT_FINDINGS)


def _named(spec: str) -> bool:
    """``NAME=PROVIDER:ARGUMENT`` (else a bare ``PROVIDER:ARGUMENT``, named after itself)."""
    name, eq, _ = spec.partition("=")
    return bool(eq) and ":" not in name


def finding_line(f: Finding) -> str:
    unit = "row" if f.rows else ("label" if f.check in ("labels", "tokens") else "") if f.items else ""
    count = f"{f.count:,} {unit}{'s' if f.count != 1 else ''}" if unit else ""
    rows = f.rows_text()
    tail = f" — {rows}" if rows else ""
    hint = f" ({f.hint})" if f.hint else ""
    return f"{f.severity:<7}  {f.code:<26} {count:>11}  {f.message}{tail}{hint}"


def print_validation(v: Validation) -> None:
    where = f"{v.n_heldout:,} held-out examples"
    if v.heldout:
        where += f" ({v.heldout})"
    if v.train:
        where += f", training file {v.train}"
    typer.echo(f"{v.suite}: {where}" + (f"; models: {', '.join(v.models)}" if v.models else ""))
    for f in v.findings:
        typer.echo(finding_line(f))
    s = v.summary()
    fixable = sum(1 for f in v.findings if f.fixable)
    manual = [f.code for f in v.findings if f.severity == "error" and not f.fixable]
    tail = f"; --fix OUT corrects {fixable} of them" if fixable else ""
    if fixable and manual:
        tail += f", not the error(s) {', '.join(manual)}"
    verdict = ("errors stop `harness run` (override: --allow-data-errors)" if s["error"]
               else "no errors: `harness run` will proceed")
    typer.echo(f"{s['error']} error(s), {s['warning']} warning(s), {s['info']} note(s) — {verdict}{tail}")


def print_findings(v: Validation, console: Any) -> None:
    """``harness run``: the data checks' errors and warnings, one line each, before anything is scored."""
    shown = [f for f in v.findings if f.severity in ("error", "warning")]
    for f in shown:
        console.print(f"  data check: {finding_line(f)}", style="red" if f.severity == "error" else "yellow",
                      markup=False, highlight=False, soft_wrap=True)


def print_fix(fixed: dict) -> None:
    typer.echo(f"corrected copy written to {fixed['out']}:")
    for change in fixed["changes"] or ["nothing needed correcting: the copy holds the same data"]:
        typer.echo(f"  {change}")
    for f in fixed.get("not_fixed", []):
        if f["severity"] == "error":
            rows = f" (rows {', '.join(map(str, f['rows'][:10]))})" if f.get("rows") else ""
            typer.echo(f"  not corrected (--fix cannot): {f['code']}{rows}: {f['message']}")
    again = fixed.get("revalidated")
    if again is not None:
        verdict = ("clean: no errors" if not again["error"] else
                   f"{again['error']} error(s) remain, to correct by hand before `harness run`")
        typer.echo(f"the copy re-validated: {verdict}, {again['warning']} warning(s)")
        for f in fixed["remaining"]:
            rows = f" (rows {', '.join(map(str, f['rows'][:10]))})" if f.get("rows") else ""
            typer.echo(f"  still: {f['severity']} {f['code']}{rows}: {f['message']}")
