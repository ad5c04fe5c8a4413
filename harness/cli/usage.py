"""What ``harness run`` prints besides the summary tables: the ``--dry-run`` estimate, the requests and cost of
each API model, failure reasons, and the message of a run with too many failed examples."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def too_many_failed_message(over: dict[str, tuple[int, int, str]], limit: float,
                            results: dict[str, Any] | None = None) -> str:
    parts = [f"{name}: {failed} of {n} examples failed ({failed / n:.0%})" for name, (failed, n, _) in over.items()]
    reason = next(iter(over.values()))[2]
    api = {m["name"] for m in (results or {}).get("models", []) if "usage" in m}
    again = ("; the same command retries the failed requests, answered ones come from the cache"
             if api & set(over) else "")
    return (f"{'; '.join(parts)} — more than --max-failed {limit:.0%} (results were written{again}); "
            f"most frequent reason: {reason}")


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.4f}"


def print_estimate(rows: list[dict[str, Any]], console: Console, batch: bool = False,
                   max_cost: float | None = None) -> None:
    """The --dry-run table."""
    table = Table(title="dry run: estimated tokens and cost (nothing was sent)", title_justify="left")
    for col in ("model", "examples", "cached", "to send", "prompt tokens", "max completion tokens",
                "est. cost", "price"):
        table.add_column(col, justify="left" if col in ("model", "price") else "right",
                         overflow="fold", no_wrap=col != "price")
    for r in rows:
        table.add_row(escape(r["model"]), str(r["examples"]), str(r["cached"]), str(r["requests"]),
                      f"{r['prompt_tokens']:,}" + ("" if r["tokenizer"] else "*"), f"{r['completion_tokens']:,}",
                      _usd(r["usd"]), r["source"])
    known = [r["usd"] for r in rows if r["usd"] is not None]
    total = sum(known)
    if not console.is_terminal:
        console.width = max(console.width, 200)
    console.print(table)
    complete = len(known) == len(rows)
    console.print(f"estimated total: {_usd(total)}" + ("" if complete else " (some models have no price)")
                  + (" — Batch API prices" if batch else ""))
    if max_cost is not None and total > max_cost:
        console.print(f"[yellow]the estimate exceeds --max-cost {max_cost:g} USD: the run would stop early[/]")
    if not all(r["tokenizer"] for r in rows):
        console.print("* no tokenizer for this provider: a deliberately high guess (a token per 3 characters)",
                      style="dim")


def requests_line(u: dict[str, Any]) -> str:
    """What was sent and how it was answered: ``32 requests sent (0 answered, 32 failed), 0 cached``. Counts
    every request the server saw, answered or not (a model stopped by 28 answers of 404 sent 28 requests)."""
    sent = u.get("sent", u.get("attempts", 0) + u.get("batched", 0))
    parts = [f"{u['requests']} answered"]
    errors = u.get("errors")
    if errors:
        parts.append(f"{errors} failed")
    if u.get("retries"):
        parts.append(f"{u['retries']} retries")
    if u.get("batched"):
        parts.append(f"{u['batched']} via the Batch API")
    abandoned = f", {u['abandoned']} abandoned in flight" if u.get("abandoned") else ""
    return f"{sent} requests sent ({', '.join(parts)}){abandoned}, {u['cached']} cached"


def print_usage(results: dict[str, Any], console: Console, verbose: bool = False) -> None:
    """One line per request model: requests sent, cached, tokens, cost; then failures by reason (the three
    most frequent; every one with ``verbose``)."""
    for m in results["models"]:
        u, c = m.get("usage"), m.get("cost")
        if u is not None and c is not None:
            cost = _usd(c.get("usd"))
            console.print(f"  {m['name']}: {requests_line(u)}, "
                          f"{u['prompt_tokens']:,}+{u['completion_tokens']:,} tokens, cost {cost}"
                          + (f" (spent now {_usd(c.get('spent_usd'))})" if c.get("usd") else ""), style="dim",
                          markup=False)
        reasons = list(m.get("failures", {}).items())
        for reason, n in reasons if verbose else reasons[:3]:
            console.print(f"  {m['name']}: {n} failed — {reason}", style="yellow", markup=False)
        if len(reasons) > 3 and not verbose:
            console.print(f"  {m['name']}: {len(reasons) - 3} more failure reasons in results.json (--verbose "
                          "lists them)", style="dim", markup=False)
    total = results.get("cost") or {}
    if total.get("spent_usd"):
        console.print(f"  spent in this run: {_usd(total['spent_usd'])}", style="dim")
