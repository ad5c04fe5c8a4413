"""Progress: plain lines for logs, silence in tests, rich bars on a terminal."""

from __future__ import annotations

import io
import time

import pytest

from harness.progress import BarProgress, PlainProgress, Progress, make_progress, resolve_mode


def test_auto_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARNESS_PROGRESS", raising=False)
    assert resolve_mode("auto") == "off"  # under pytest
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    assert resolve_mode("auto", io.StringIO()) == "plain"  # not a terminal: CI logs

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert resolve_mode("auto", Tty()) == "bar"
    monkeypatch.setenv("HARNESS_PROGRESS", "off")
    assert resolve_mode(None, Tty()) == "off"
    assert resolve_mode("plain") == "plain"
    assert type(make_progress("off")) is Progress


def test_plain_lines_every_ten_percent_at_most_once_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("harness.progress._clock", lambda: clock[0])
    out = io.StringIO()
    p = PlainProgress(out, every=5.0, heartbeat=False)  # this test drives the clock itself
    tid = p.add("base", 100)
    clock[0] += 1
    p.advance(tid, done=1)
    for _ in range(30):  # a burst of cached answers: no line per decile within the same second
        p.advance(tid, done=1)
    clock[0] += 1.5
    p.advance(tid, done=1, failed=1)
    p.advance(tid, retries=2)  # no new decile, < 5 s: silent
    clock[0] += 6
    p.advance(tid, note="batch b1: in_progress")  # 5 s passed: a line even without progress
    p.advance(tid, done=68)
    p.advance(tid, done=0)  # finished: printed once
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("progress: base: 1/100 (1%)")
    assert lines[1].startswith("progress: base: 32/100 (32%)") and "1 failed" in lines[1]
    assert "2 retries" in lines[2] and "batch b1: in_progress" in lines[2]
    assert lines[3].startswith("progress: base: 100/100 (100%)")
    assert len(lines) == 4


def test_plain_lines_keep_coming_while_a_model_waits() -> None:
    out = io.StringIO()
    p = PlainProgress(out, every=0.2)
    waiting, finished, stopped = p.add("base", 10), p.add("tuned", 2), p.add("broken", 50)
    p.advance(finished, done=2)
    p.advance(stopped, done=9, failed=9)
    p.stop(stopped)  # a provider error: one "stopped" line, then silence (not a stale ETA every 5 s)
    p.advance(stopped, done=1)
    p.advance(waiting, done=3, note="rate limited: waiting 30 s")
    time.sleep(1.5)  # nothing changes: a long Retry-After pause
    p.close()
    time.sleep(0.3)
    lines = out.getvalue().splitlines()
    beats = [line for line in lines if line.startswith("progress: base: 3/10") and "waiting 30 s" in line]
    assert len(beats) >= 3  # about every 0.2 s; at least 3 even on a loaded machine
    assert sum(line.startswith("progress: tuned") for line in lines) == 1  # a finished model is not repeated
    broken = [line for line in lines if line.startswith("progress: broken")]
    assert len(broken) == 1 and broken[0].endswith("stopped") and "9/50" in broken[0]
    time.sleep(0.6)
    assert out.getvalue().splitlines() == lines  # nothing after close()


def test_rich_bars_render(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    buf = io.StringIO()
    p = BarProgress(Console(file=buf, force_terminal=True, width=120))
    tid = p.add("tuned", 10)
    p.advance(tid, done=10, failed=2, retries=3)
    p.close()
    text = buf.getvalue()
    assert "tuned" in text and "10/10" in text and "2 failed, 3 retries" in text
