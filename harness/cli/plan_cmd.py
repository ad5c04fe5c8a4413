"""``harness plan``: how many held-out examples a paired comparison needs, and what a results.json's set detects.

The numbers are the exact power of the test harness runs on accuracy (two-sided mid-p McNemar,
:mod:`harness.stats.samplesize`), not a normal approximation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ..errors import UsageError
from ..output.results import load_results

SENSITIVITY = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4)
APPROXIMATE_ABOVE = 50_000  # harness.stats.samplesize.EXACT_SIZE_MAX_N (tests check they agree)
APPROXIMATION = (f"sizes above {APPROXIMATE_ABOVE:,} examples are Connor's normal approximation (within about 0.03% "
                 "of the exact size there)")


def plan(
    results: Path | None = typer.Argument(None, help="A results.json (or its folder): what its held-out set "
                                                     "detects, and how many examples --mde needs."),
    accuracy: float | None = typer.Option(None, "--accuracy", min=0.0, max=1.0,
                                          help="Accuracy of the reference model (e.g. 0.85)."),
    mde: float | None = typer.Option(None, "--mde", min=0.0001, max=1.0,
                                     help="The accuracy difference to detect (0.02 = 2 points; default: the "
                                          "suite's validate.mde recorded in the results, else 0.02)."),
    discordance: float = typer.Option(0.1, "--discordance", min=0.0001, max=1.0,
                                      help="Share of examples the two models disagree on (one right, the other "
                                           "wrong). A results.json gives the observed one."),
    power: float = typer.Option(0.8, "--power", min=0.01, max=0.9999, help="Probability of detecting it."),
    alpha: float | None = typer.Option(None, "--alpha", min=0.0001, max=0.5,
                                       help="Significance level (two-sided; default 0.05 — with a results.json, "
                                            "the level of its MDE column: alpha / the number of comparisons)."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
) -> None:
    """How many held-out examples a paired comparison needs to detect an accuracy difference (and, given a
    results.json, what the current set can detect) — the exact power of the mid-p McNemar test."""
    if results is not None:
        out = _from_results(results, mde, power, alpha)
    else:
        if accuracy is None:
            raise UsageError("--accuracy: give the reference model's accuracy (e.g. --accuracy 0.85), or a "
                             "results.json to plan from")
        out = _plan(accuracy, 0.02 if mde is None else mde, discordance, power, 0.05 if alpha is None else alpha)
    if as_json:
        typer.echo(json.dumps(out, indent=2))
    elif results is not None:
        _print_results(out)
    else:
        _print_plan(out)


def _other(accuracy: float, mde: float) -> float:
    """The candidate's accuracy: ``mde`` above the reference (below it when above is impossible)."""
    if accuracy + mde <= 1.0:
        return accuracy + mde
    if accuracy - mde >= 0.0:
        return accuracy - mde
    raise UsageError(f"--mde {mde:g}: no accuracy is {mde:g} away from {accuracy:g}")


def _feasible(a: float, b: float) -> tuple[float, float]:
    """The discordance two models of accuracies ``a`` and ``b`` can have."""
    return abs(a - b), min(a + b, 2.0 - a - b)


def _plan(accuracy: float, mde: float, discordance: float, power: float, alpha: float) -> dict[str, Any]:
    from ..stats.samplesize import (  # here: `harness --help` does not import numpy
        independent_discordance,
        paired_sample_size,
        unpaired_sample_size,
    )

    b = _other(accuracy, mde)
    lo, hi = _feasible(accuracy, b)
    if not lo - 1e-12 <= discordance <= hi + 1e-12:
        raise UsageError(f"--discordance {discordance:g}: models at {accuracy:.1%} and {b:.1%} accuracy disagree on "
                         f"between {lo:.1%} and {hi:.1%} of examples (they can differ only where they disagree)")
    n = paired_sample_size(mde, discordance, power, alpha)
    indep = independent_discordance(accuracy, b)
    table = [{"discordance": d, "n": paired_sample_size(mde, d, power, alpha)}
             for d in sorted({*SENSITIVITY, discordance}) if lo - 1e-12 <= d <= hi + 1e-12 and d >= mde]
    return {
        "test": "mcnemar-midp (two-sided), exact power", "alpha": alpha, "power": power,
        "approximate_above": APPROXIMATE_ABOVE,  # sizes beyond it: Connor's normal approximation
        "accuracy": accuracy, "accuracy_other": b, "mde": mde, "discordance": discordance,
        "n": n, "discordant_expected": round(n * discordance, 1),
        "independent_errors": {"discordance": indep, "n": paired_sample_size(mde, indep, power, alpha)},
        "unpaired_n_per_set": unpaired_sample_size(accuracy, b, power, alpha),
        "by_discordance": table,
    }


def _points(x: float) -> str:
    """A difference of accuracies in points: ``2.0``, ``0.01`` (never ``0.0`` for a tiny one)."""
    return f"{100 * x:.1f}" if 100 * x >= 0.1 else f"{100 * x:.2g}"


def _print_plan(p: dict[str, Any]) -> None:
    typer.echo(f"paired comparison, {p['test']}, alpha {p['alpha']:g}, power {p['power']:.0%}:")
    acc = ".1%" if p["mde"] >= 0.001 else ".2%"  # 85.00% vs 85.01%: a tiny difference stays visible
    typer.echo(f"to detect {_points(p['mde'])} points of accuracy "
               f"({p['accuracy']:{acc}} vs {p['accuracy_other']:{acc}}) "
               f"when the models disagree on {p['discordance']:.1%} of examples:")
    typer.echo(f"  {p['n']:,} held-out examples (about {p['discordant_expected']:,.0f} on which the models disagree)")
    ind = p["independent_errors"]
    typer.echo(f"if their errors were independent (disagreeing on {ind['discordance']:.1%}): {ind['n']:,} examples")
    typer.echo(f"two separate test sets, unpaired: {p['unpaired_n_per_set']:,} examples each")
    if p["by_discordance"]:
        typer.echo("examples needed by discordance: " + ", ".join(
            f"{r['discordance']:.0%}: {r['n']:,}" for r in p["by_discordance"]))
    sizes = [p["n"], ind["n"], *(r["n"] for r in p["by_discordance"])]
    if max(sizes) > APPROXIMATE_ABOVE:
        typer.echo(f"note: {APPROXIMATION}")


def _accuracy(res: dict[str, Any], model: str) -> float | None:
    for m in res.get("models") or []:
        if isinstance(m, dict) and m.get("name") == model:
            value = ((m.get("metrics") or {}).get("accuracy") or {}).get("value")
            return float(value) if isinstance(value, (int, float)) else None
    return None


def _from_results(path: Path, mde: float | None, power: float, alpha: float | None) -> dict[str, Any]:
    from ..stats.samplesize import (  # here: `harness --help` does not import numpy
        detectable_difference,
        paired_sample_size,
    )

    res = load_results(path)
    recorded = ((res.get("data_checks") or {}).get("settings") or {}).get("mde")
    target = mde if mde is not None else (float(recorded) if isinstance(recorded, (int, float)) else 0.02)
    comparisons = res.get("comparisons") or {}
    run_level = (comparisons.get("mde") or {}) if isinstance(comparisons.get("mde"), dict) else {}
    level_rule = None
    if alpha is None:  # the level the run's MDE column used, so the numbers are the run's
        recorded_alpha = run_level.get("alpha")
        alpha = float(recorded_alpha) if isinstance(recorded_alpha, (int, float)) and 0 < recorded_alpha < 1 else 0.05
        level_rule = run_level.get("rule") if isinstance(recorded_alpha, (int, float)) else None
    pairs = comparisons.get("pairs") or []
    out_pairs = []
    for p in pairs:
        n = p.get("n")
        disc = p.get("discordant") or {}
        if not isinstance(n, int) or n < 1 or not isinstance(disc.get("a_only"), int):
            continue
        k = disc["a_only"] + disc.get("b_only", 0)
        psi = max(k / n, 1.0 / n)  # no disagreement seen: assume one (the next set will have some)
        now = detectable_difference(n, k / n, power, alpha)  # what the run's MDE column says
        needed = paired_sample_size(target, psi, power, alpha) if target <= psi else None
        out_pairs.append({"a": p.get("a"), "b": p.get("b"), "n": n, "discordant": k, "discordance": k / n,
                          "accuracy_a": _accuracy(res, str(p.get("a"))), "accuracy_b": _accuracy(res, str(p.get("b"))),
                          "mde_now": now, "mde": target, "n_needed": needed,
                          "more_needed": None if needed is None else max(0, needed - n)})
    if not out_pairs:
        raise UsageError(f"{path}: the results have no paired comparisons (run with two or more models and "
                         "without --no-stats)")
    return {"results": str(path), "test": "mcnemar-midp (two-sided), exact power",
            "approximate_above": APPROXIMATE_ABOVE, "alpha": alpha,
            "alpha_rule": level_rule, "power": power, "mde": target, "pairs": out_pairs}


def _print_results(r: dict[str, Any]) -> None:
    rule = f" (the run's: {r['alpha_rule']})" if r.get("alpha_rule") else ""
    typer.echo(f"{r['results']}: {r['test']}, alpha {r['alpha']:.3g}{rule}, power {r['power']:.0%}, "
               f"target difference {_points(r['mde'])} points")
    for p in r["pairs"]:
        now = ("detects no difference at this power (the models disagree on too few examples)"
               if p["mde_now"] is None else f"detects {p['mde_now'] * 100:.1f} points or more")
        line = (f"  {p['a']} vs {p['b']}: {p['n']:,} examples, disagreeing on {p['discordant']:,} "
                f"({p['discordance']:.1%}); {now}")
        if p["n_needed"] is None:
            line += (f"; {_points(p['mde'])} points is more than they disagree on, so no number of examples "
                     "shows it")
        elif p["more_needed"]:
            line += f"; {_points(p['mde'])} points needs {p['n_needed']:,} ({p['more_needed']:,} more)"
        else:
            line += f"; enough for {_points(p['mde'])} points (needs {p['n_needed']:,})"
        typer.echo(line)
    if any((p["n_needed"] or 0) > APPROXIMATE_ABOVE for p in r["pairs"]):
        typer.echo(f"note: {APPROXIMATION}")
