"""Entry point: wires the commands and maps domain errors to exit codes (see README, "Exit codes")."""

from __future__ import annotations

import gc
import os
import sys

import typer

from ..errors import HarnessError
from . import (
    cache_cmd,
    demo_cmd,
    export_cmd,
    gate_cmd,
    plan_cmd,
    plugins_cmd,
    report_cmd,
    run_cmd,
    signals,
    validate_cmd,
)

app = typer.Typer(help="Is the fine-tuned classifier really better? Paired evaluation with HTML reports.",
                  no_args_is_help=True, add_completion=True, pretty_exceptions_enable=False)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"harness {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", "-V", is_eager=True, callback=_print_version,
                                       help="Print the version and exit.")) -> None:
    """Is the fine-tuned classifier really better? Paired evaluation with HTML reports."""

app.command("run")(run_cmd.run)
app.command("demo")(demo_cmd.demo)
app.command("report")(report_cmd.report)
app.command("export")(export_cmd.export)
app.command("plugins")(plugins_cmd.plugins)
app.command("gate")(gate_cmd.gate_command)
app.command("validate")(validate_cmd.validate)
app.command("plan")(plan_cmd.plan)
app.add_typer(cache_cmd.app, name="cache")

EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def _interrupted(argv: list[str] | None) -> int:
    """One line saying what interrupted the command, and 128 + that signal's number (130 for Ctrl-C)."""
    signum = signals.interrupting_signal()
    args = sys.argv[1:] if argv is None else argv
    resumable = bool(args) and args[0] in ("run", "demo")
    typer.echo(f"interrupted ({signals.describe(signum)})"
               + (": every response received so far is in the cache; the same command resumes" if resumable
                  else ""), err=True)
    return signals.exit_code(signum)


def main(argv: list[str] | None = None) -> int:
    with signals.cancel_signals():  # SIGTERM and SIGHUP (a CI job cancelled) act as Ctrl-C
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    try:
        # without standalone mode, typer *returns* the exit code of typer.Exit and of Ctrl-C (130)
        returned = app(args=argv, standalone_mode=False)
    except HarnessError as exc:
        typer.echo(f"error: {exc.one_line()}", err=True)
        return exc.exit_code
    except SystemExit as exc:  # typer.Exit from commands
        return int(exc.code or 0)
    except KeyboardInterrupt:
        return _interrupted(argv)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort as exc:  # a prompt got Ctrl-C, or no answer at all (end of input)
        if isinstance(exc.__context__, KeyboardInterrupt):
            return _interrupted(argv)
        typer.echo("error: aborted: a question got no answer (end of input)", err=True)
        return 2
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument...
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        return int(getattr(exc, "exit_code", 2) or 2)
    except Exception as exc:  # a genuine bug: one line, traceback only on request
        if os.environ.get("HARNESS_DEBUG"):
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc} (set HARNESS_DEBUG=1 for a traceback; "
                   "please report it)", err=True)
        return EXIT_INTERNAL
    if returned == EXIT_INTERRUPTED:
        return _interrupted(argv)
    return returned if isinstance(returned, int) else 0


def entry() -> None:
    code = main()
    # Everything is written and closed by now. The interpreter's last garbage collection would walk every object
    # still alive (the SDK's thousands of classes, the run's data) only to free them as the process ends: ~0.3 s
    # of CPU after a run. Frozen, they are left to the operating system; finalizers that matter ran already.
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
