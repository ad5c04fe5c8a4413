"""Entry point: wires the commands and maps domain errors to exit codes (see README, "Exit codes")."""

from __future__ import annotations

import os
import sys

import typer

from ..errors import HarnessError
from . import demo_cmd, plugins_cmd, report_cmd, run_cmd

app = typer.Typer(help="Is the fine-tuned classifier really better? Paired evaluation with HTML reports.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.command("run")(run_cmd.run)
app.command("demo")(demo_cmd.demo)
app.command("report")(report_cmd.report)
app.command("plugins")(plugins_cmd.plugins)

EXIT_INTERNAL = 1


def main(argv: list[str] | None = None) -> int:
    try:
        app(args=argv, standalone_mode=False)
    except HarnessError as exc:
        typer.echo(f"error: {exc.one_line()}", err=True)
        return exc.exit_code
    except SystemExit as exc:  # typer.Exit from commands
        return int(exc.code or 0)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # click usage errors and genuine bugs
        import click

        if isinstance(exc, click.exceptions.Exit):
            return exc.exit_code
        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            typer.echo("aborted", err=True)
            return 1
        if os.environ.get("HARNESS_DEBUG"):
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc} (set HARNESS_DEBUG=1 for a traceback; "
                   "please report it)", err=True)
        return EXIT_INTERNAL
    return 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
