"""Every broken input of the corpus (tests/inputs/corpus.py) is refused the same way: exit code 2, one line on
stderr naming the file, the line and the field, no traceback, and nothing written or sent — the model of the
suite is an OpenAI model on a real loopback server, and it receives no request."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import CASES, Case, make_suite, run


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``root``: (size, mtime) — what a test compares to see that nothing changed."""
    return {str(p.relative_to(root)): (p.lstat().st_size if p.is_file() else -1, p.lstat().st_mtime_ns)
            for p in root.rglob("*")}


def test_the_corpus_is_large_and_covers_every_kind_of_input():
    assert len(CASES) >= 60
    prefixes = {c.name.split("-")[0] for c in CASES}
    assert {"yaml", "suite", "template", "jsonl", "csv", "predictions", "model", "results", "cli"} <= prefixes


def test_the_unbroken_suite_runs_and_sends_requests(fake, harness_cli, tmp_path, monkeypatch):
    """The control: the corpus's suite, unbroken, is scored by the fake server (so "nothing sent" means the
    error stopped the run, not that the model would never have been called)."""
    work = tmp_path / "work"
    monkeypatch.chdir(tmp_path)
    res = harness_cli(*run(work, make_suite(work)), "--no-report")
    assert res.code == 0, res.err
    scoring = [r for r in fake.requests if "/chat/completions" in r.path]  # besides, a free tokenizer probe
    assert len(scoring) == 6 and (work / "out" / "results.json").is_file()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_broken_input_is_one_clean_error_and_nothing_is_written_or_sent(case: Case, fake, harness_cli, tmp_path,
                                                                          monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # relative paths (a model file in the current folder, default outputs) land here
    argv = case.make(work)
    before = _snapshot(tmp_path)

    res = harness_cli(*argv)

    assert res.code == 2, (res.code, res.err)
    assert "Traceback" not in res.err
    lines = [line for line in res.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.err
    for fragment in case.expect:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert _snapshot(tmp_path) == before, "something was written"
    assert fake.requests == [], f"{len(fake.requests)} request(s) sent"
