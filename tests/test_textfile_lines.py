"""Large files are split into lines a chunk at a time (io.StringIO holds 4 bytes a character: a 170 MB held-out
file took a 680 MB copy at once); the lines are exactly those ``open()`` / ``io.StringIO`` give, whatever the
newlines and wherever a chunk ends."""

from __future__ import annotations

import io
import random

import pytest

from harness import textfile


@pytest.mark.parametrize("newline", [None, ""])
def test_chunked_lines_are_the_lines_stringio_gives(monkeypatch: pytest.MonkeyPatch, newline: str | None) -> None:
    monkeypatch.setattr(textfile, "CHUNK", 7)
    rng = random.Random(14)
    pieces = ["a", "b", "\n", "\r", "\r\n", "\n\n", "x" * 12, "\u2028", "\x85", "é"]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        assert list(textfile.iter_lines(text, newline)) == list(io.StringIO(text, newline=newline)), repr(text)
    assert list(textfile.lines("p\r\nq\rr")) == [(1, "p\n"), (2, "q\n"), (3, "r")]
