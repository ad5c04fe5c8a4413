"""``harness cache info|clear``: what the response cache holds, and emptying it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ..engine.cache import Cache, resolve_cache_path
from ..errors import UsageError

app = typer.Typer(help="The response cache shared by every run (SQLite): inspect or clear it.",
                  no_args_is_help=True)

CACHE_OPT = typer.Option(None, "--cache", help="Cache file (default: $HARNESS_CACHE_DIR/cache.sqlite3 or "
                                               "the platform's user cache folder: ~/.cache/harness on Linux).")


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).isoformat(sep=" ", timespec="seconds") if ts else "-"


def _target(identity: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in identity.items())


@app.command("info")
def info(cache: Path | None = CACHE_OPT,
         as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables.")) -> None:
    """Where the cache is, its size, responses per target and batches awaiting results."""
    path = resolve_cache_path(cache)
    if not path.exists():
        typer.echo(json.dumps({"path": str(path), "exists": False}) if as_json
                   else f"cache: {path} (empty: no run has used it yet)")
        return
    c = Cache(path, readonly=True)  # reads only: works on a read-only file, never changes it
    try:
        data = c.info()
    finally:
        c.close()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(f"cache: {data['path']} — {data['responses']} responses, {data['bytes'] / 1e6:.1f} MB")
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 160)  # logs: do not fold ids and URLs
    if data["targets"]:
        table = Table(title="responses by target", title_justify="left")
        for col in ("server", "model", "responses", "from batches", "first", "last"):
            table.add_column(col, overflow="fold")
        for t in data["targets"]:
            table.add_row(_target(t["identity"]), str(t["model"] or "-"), str(t["responses"]),
                          str(t["batch_responses"] or 0), _when(t["first"]), _when(t["last"]))
        console.print(table)
    if data["batches"]:
        table = Table(title="batches awaiting results (a re-run resumes polling them)", title_justify="left")
        for col in ("batch id", "status", "requests", "target", "updated"):
            table.add_column(col, overflow="fold")
        for b in data["batches"]:
            table.add_row(b["batch_id"], b["status"], str(b["requests"]), _target(b["identity"]),
                          _when(b["updated_at"]))
        console.print(table)


@app.command("clear")
def clear(cache: Path | None = CACHE_OPT,
          match: str | None = typer.Option(None, "--match", help="Only responses with this text in their "
                                                                     "model id or server (base URL, endpoint)."),
          yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Delete cached responses (all, or one target's) and pending batch records."""
    path = resolve_cache_path(cache)
    if not path.exists():
        typer.echo(f"cache: {path} is already empty")
        return
    what = f"the responses of targets matching {match!r}" if match else "every cached response"
    if not yes:
        try:
            confirmed = typer.confirm(f"Delete {what} in {path}? Re-running will pay for them again.", err=True)
        except typer.Abort:  # no answer: stdin closed or not a terminal (a script, CI)
            typer.echo("", err=True)  # end the question's line
            raise UsageError("harness cache clear asks before deleting and got no answer: nothing was deleted; "
                             "pass --yes to clear without asking") from None
        if not confirmed:  # the user's choice, not an error
            typer.echo("nothing was deleted", err=True)
            return
    c = Cache(path, create=False)
    try:
        n = c.clear(match)
    finally:
        c.close()
    typer.echo(f"deleted {n} responses from {path}")
