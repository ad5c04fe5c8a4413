"""SIGTERM and SIGHUP (what CI systems and terminals send on cancel) handled exactly as Ctrl-C is.

A handler records which signal arrived and re-raises it as SIGINT, so whatever Ctrl-C does at that moment
happens: inside a run, asyncio cancels the scoring task and the engine closes cleanly (every response received
so far is already in the cache, so the same command resumes); elsewhere a KeyboardInterrupt. The CLI then
exits with 128 + the signal's number (143 for SIGTERM, 129 for SIGHUP, 130 for Ctrl-C), as shells report it.
A signal the parent process ignores (``nohup`` ignores SIGHUP) stays ignored. A job started in the background
by a non-interactive shell (``harness run ... &``) has SIGINT ignored: SIGTERM then raises KeyboardInterrupt
itself, since a forwarded SIGINT would be ignored and the run would go on to the end.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)

_received: list[int] = []


def _forward(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, signal.SIG_DFL, None):
        # SIGINT ignored (a background job of a non-interactive shell) or not Python's: a forwarded SIGINT
        # would be lost, so interrupt here as Ctrl-C's default handler does
        signal.default_int_handler(signal.SIGINT, frame)
    signal.raise_signal(signal.SIGINT)


@contextmanager
def cancel_signals() -> Iterator[None]:
    """While the CLI runs: SIGTERM and SIGHUP act as Ctrl-C (handlers restored afterwards)."""
    _received.clear()
    if threading.current_thread() is not threading.main_thread():  # signals are the main thread's only
        yield
        return
    previous = {}
    for sig in HANDLED:
        current = signal.getsignal(sig)
        if current is signal.SIG_IGN:
            continue
        previous[sig] = current
        signal.signal(sig, _forward)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def interrupting_signal() -> int:
    """The signal that interrupted the command: SIGTERM, SIGHUP or (by default) SIGINT."""
    return _received[0] if _received else int(signal.SIGINT)


def exit_code(signum: int) -> int:
    return 128 + signum


def describe(signum: int) -> str:
    name = signal.Signals(signum).name
    return "Ctrl-C" if name == "SIGINT" else name
