"""Run progress: a rich bar per model on a terminal, plain periodic lines in CI logs, nothing in tests.

Modes: ``bar`` (rich, live), ``plain`` (a line per model every 5 s or 10 %), ``off``, and ``auto``: ``bar``
when stderr is a terminal, ``off`` under pytest, ``plain`` otherwise. ``HARNESS_PROGRESS`` sets the default.
Progress goes to stderr, so stdout keeps only the tables (``harness run … > summary.txt`` works).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

MODES = ("auto", "bar", "plain", "off")


def _clock() -> float:
    return time.monotonic()

ENV = "HARNESS_PROGRESS"


def resolve_mode(mode: str | None, stream: TextIO | None = None) -> str:
    mode = (mode or os.environ.get(ENV) or "auto").lower()
    if mode not in MODES:
        mode = "auto"
    if mode != "auto":
        return mode
    if "PYTEST_CURRENT_TEST" in os.environ:
        return "off"
    stream = stream or sys.stderr
    return "bar" if getattr(stream, "isatty", lambda: False)() else "plain"


@dataclass
class _Task:
    name: str
    total: int
    done: int = 0
    failed: int = 0
    retries: int = 0
    note: str = ""
    start: float = field(default_factory=lambda: _clock())
    last_print: float = field(default_factory=lambda: _clock())
    last_decile: int = -1
    handle: Any = None
    stopped: bool = False  # the model was stopped (a provider error): no more lines for it

    def line(self) -> str:
        elapsed = max(_clock() - self.start, 1e-9)
        pct = 100.0 * self.done / self.total if self.total else 100.0
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 and self.done < self.total else 0.0
        parts = [f"{self.name}: {self.done}/{self.total} ({pct:.0f}%)", f"{rate:.1f}/s",
                 f"ETA {eta:.0f}s" if self.done < self.total else f"{elapsed:.1f}s"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.retries:
            parts.append(f"{self.retries} retries")
        if self.note:
            parts.append(self.note)
        return "progress: " + ", ".join(parts)


class Progress:
    """What the engine reports to. The base class is silent (mode ``off``)."""

    def __init__(self) -> None:
        self.tasks: list[_Task] = []

    def add(self, name: str, total: int) -> int:
        self.tasks.append(_Task(name, total))
        self._added(self.tasks[-1])
        return len(self.tasks) - 1

    def advance(self, tid: int, done: int = 0, failed: int = 0, retries: int = 0, note: str | None = None) -> None:
        task = self.tasks[tid]
        task.done += done
        task.failed += failed
        task.retries += retries
        if note is not None:
            task.note = note
        self._changed(task)

    def stop(self, tid: int, note: str = "stopped") -> None:
        """The model was stopped before finishing (a provider error): say so once, then stay quiet."""
        task = self.tasks[tid]
        if task.stopped:
            return
        task.note = note
        self._changed(task)
        task.stopped = True

    def close(self) -> None:
        """Stop the display (idempotent)."""

    def _added(self, task: _Task) -> None:
        pass

    def _changed(self, task: _Task) -> None:
        pass


class PlainProgress(Progress):
    """A line per model every ``every`` seconds, or at each further 10 % (at most once a second), and
    when it finishes. A heartbeat thread keeps the lines coming while nothing changes (a long Retry-After
    pause, a batch being processed), so a CI log never goes quiet on an unfinished model."""

    def __init__(self, stream: TextIO | None = None, every: float = 5.0, heartbeat: bool = True) -> None:
        super().__init__()
        self.stream = stream or sys.stderr
        self.every = every
        self._lock = threading.Lock()  # the heartbeat thread and the engine's thread both print
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        if heartbeat:
            self._beat = threading.Thread(target=self._heartbeat, name="harness-progress", daemon=True)
            self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(min(1.0, self.every)):
            with self._lock:
                if self._stop.is_set():
                    return
                now = _clock()
                for task in list(self.tasks):
                    if task.done < task.total and not task.stopped and now - task.last_print >= self.every:
                        self._print(task)

    def close(self) -> None:
        self._stop.set()
        if self._beat is not None and self._beat is not threading.current_thread():
            self._beat.join(timeout=2.0)

    def _print(self, task: _Task) -> None:  # with the lock held
        task.last_print = _clock()
        print(task.line(), file=self.stream, flush=True)

    def _emit(self, task: _Task) -> None:
        with self._lock:
            self._print(task)

    def _changed(self, task: _Task) -> None:
        if task.stopped:
            return
        if task.note.startswith("stopped"):
            self._emit(task)
            return
        finished = task.done >= task.total
        if finished and task.last_decile == 10:
            return  # the final line is out
        decile = 10 if finished else int(10 * task.done / task.total)
        since = _clock() - task.last_print
        if finished or since >= self.every or (decile > task.last_decile and since >= 1.0):
            task.last_decile = max(decile, task.last_decile)
            self._emit(task)


class BarProgress(Progress):
    """rich bars: model, bar, done/total, rate, ETA and errors."""

    def __init__(self, console: Any = None) -> None:
        super().__init__()
        from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress
        from rich.text import Text

        class Rate(ProgressColumn):
            def render(self, task: Any) -> Text:
                return Text(f"{task.speed:.1f}/s" if task.speed else "–/s", style="progress.data.speed")

        self._rich = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(),
                                  TimeRemainingColumn(), TextColumn("{task.fields[errors]}", style="yellow"),
                                  console=console, transient=False)
        self._rich.start()

    def _added(self, task: _Task) -> None:
        task.handle = self._rich.add_task(task.name, total=task.total, errors="")

    def _changed(self, task: _Task) -> None:
        if task.stopped:
            return
        errors = ", ".join(p for p in (f"{task.failed} failed" if task.failed else "",
                                       f"{task.retries} retries" if task.retries else "", task.note) if p)
        self._rich.update(task.handle, completed=task.done, errors=errors)

    def close(self) -> None:
        self._rich.stop()


def make_progress(mode: str | None, console: Any = None) -> Progress:
    """The display for ``mode``, on stderr (``console``, when given, should write to stderr too)."""
    resolved = resolve_mode(mode)
    if resolved == "bar":
        if console is None:
            from rich.console import Console

            console = Console(stderr=True)
        return BarProgress(console)
    if resolved == "plain":
        return PlainProgress()
    return Progress()
