"""What a user and a CI job see when an OpenAI-compatible server misbehaves (issue 10, items 11 and 12): server
messages are not garbled by a dummy key, and request counts agree with what the server received."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, error_body
from openai_testkit import write_suite

from harness.cli.main import main

ROWS = [(f"ex{i:02d}", f"Post number {i} about the game", ("baseball", "hockey")[i % 2]) for i in range(40)]


def run(tmp_path: Path, *args: Any, model: str = "gpt-4o-mini") -> tuple[int, Path]:
    suite = write_suite(tmp_path / "suite", ROWS, metrics=["accuracy"])
    out = tmp_path / "out"
    code = main(["run", str(suite), "--only", "--model", f"x=openai:{model}", "--out", str(out), "--no-report",
                 "--progress", "off", *map(str, args)])
    return code, out


def rows_of(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("dummy", ["o", "x", "EMPTY"])
def test_a_dummy_key_does_not_garble_server_messages(fake: FakeOpenAI, tmp_path, capsys, monkeypatch, dummy) -> None:
    """Local servers are given keys like ``x`` or ``EMPTY``: scrubbing such a "key" turned every ``o`` of a
    server message into ``***`` in results.json, predictions.jsonl and stderr."""
    fake.api_key = None  # a local server that takes any key
    monkeypatch.setenv("OPENAI_API_KEY", dummy)
    message = "Your prompt was flagged: look over the wording of token x or EMPTY sections"
    fake.inject(400, error_body(message, code="invalid_prompt"), times=None,
                when=lambda body: body["messages"][-1]["content"].startswith("Post number 3 "))
    fake.missing_models.add("gone-model")
    code, out = run(tmp_path)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    [failed] = [r for r in rows_of(out) if r["status"] == "failed"]
    assert message in failed["error"] and "***" not in failed["error"]
    results = (out / "results.json").read_text()
    assert message in results and "***" not in results

    code, out = run(tmp_path, model="gone-model")  # a whole-model error: the one line on stderr
    err = capsys.readouterr().err
    assert code == 3
    assert "The model `gone-model` does not exist or you do not have access to it" in err
    assert "***" not in err + (out / "results.json").read_text() + (out / "predictions.jsonl").read_text()


def test_a_real_key_echoed_by_the_server_is_still_scrubbed(fake: FakeOpenAI, tmp_path, capsys) -> None:
    fake.missing_models.add("gone-model")
    fake.inject(404, error_body(f"The model `gone-model` does not exist for key {fake.api_key}",
                                code="model_not_found"), times=None)
    code, out = run(tmp_path, model="gone-model")
    err = capsys.readouterr().err
    assert code == 3 and fake.api_key not in err and "***" in err
    assert fake.api_key not in (out / "results.json").read_text()


def test_a_model_stopped_by_404s_reports_the_requests_the_server_answered(fake: FakeOpenAI, tmp_path,
                                                                           capsys) -> None:
    """``x: 0 requests`` for a model that got 28 answers of 404 was a lie: every request the server saw counts."""
    fake.missing_models.add("gone-model")
    code, out = run(tmp_path, "--concurrency", "8", model="gone-model")
    captured = capsys.readouterr()
    assert code == 3
    fake.settle()
    seen = len(fake.calls("/chat/completions"))
    assert seen >= 1
    usage = json.loads((out / "results.json").read_text())["models"][0]["usage"]
    assert usage["sent"] == usage["attempts"] == seen and usage["abandoned"] == 0
    assert usage["errors"] == seen and usage["requests"] == 0
    assert f"x: {seen} requests sent (0 answered, {seen} failed)" in captured.out + captured.err


def test_retries_agree_with_the_server_log_in_a_fail_fast_run(fake: FakeOpenAI, tmp_path, capsys) -> None:
    """A server that answers 500 to everything: the model is stopped by the fail-fast rule while retries are
    still scheduled; a retry that was never sent must not be counted."""
    fake.inject(500, error_body("upstream is down", "server_error"), times=None)
    code, out = run(tmp_path, "--max-attempts", "3", "--concurrency", "16")
    capsys.readouterr()
    assert code == 3
    fake.settle()  # requests still in flight when the model was stopped reach the log a moment later
    calls = fake.calls("/chat/completions")
    distinct = {json.dumps(c.json, sort_keys=True) for c in calls}
    usage = json.loads((out / "results.json").read_text())["models"][0]["usage"]
    # a stopped model's requests in flight are given time to finish: none is abandoned, the counts are exact
    assert usage["abandoned"] == 0
    assert usage["attempts"] == usage["sent"] == usage["errors"] == len(calls)
    assert usage["retries"] == len(calls) - len(distinct)


def _server_dies_after(fake: FakeOpenAI, answered: int) -> None:
    """From the ``answered``-th chat request on, the server only answers 503 (a server killed mid-run)."""
    seen = {"n": 0}

    def dead(body: Any) -> bool:
        seen["n"] += 1
        return seen["n"] > answered

    fake.inject(503, error_body("upstream connect error or disconnect/reset before headers", "server_error"),
                times=None, path="/chat/completions", when=dead)


def test_a_server_that_dies_mid_run_fails_the_run_with_results_written(fake: FakeOpenAI, tmp_path, capsys) -> None:
    """After the first answers the fail-fast rule no longer applies: a run where most examples failed used to
    exit 0. Past ``--max-failed`` (default 10%) it exits 3, and results are still written."""
    _server_dies_after(fake, 8)
    code, out = run(tmp_path, "--max-attempts", "2", "--concurrency", "1")
    err = capsys.readouterr().err
    assert code == 3
    results = json.loads((out / "results.json").read_text())
    counts = results["models"][0]["counts"]
    assert counts["ok"] + counts["invalid"] == 8 and counts["failed"] == 32
    assert results["engine"]["max_failed"] == pytest.approx(0.1)
    line = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(line) == 1 and "x: 32 of 40 examples failed (80%)" in line[0] and "--max-failed 10%" in line[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("limit, code", [("90%", 0), ("1", 0), ("0.5", 3), ("0", 3)])
def test_max_failed_sets_the_limit(fake: FakeOpenAI, tmp_path, capsys, limit, code) -> None:
    _server_dies_after(fake, 8)
    got, out = run(tmp_path, "--max-attempts", "1", "--concurrency", "1", "--max-failed", limit)
    assert got == code, capsys.readouterr().err
    assert (out / "results.json").is_file()


def test_a_few_failed_examples_stay_under_the_default_limit(fake: FakeOpenAI, tmp_path, capsys) -> None:
    fake.inject(400, error_body("Your prompt was flagged", code="invalid_prompt"), times=None,
                when=lambda body: body["messages"][-1]["content"].startswith(("Post number 3 ", "Post number 7 ")))
    code, out = run(tmp_path)
    assert code == 0, capsys.readouterr().err  # 2 of 40 = 5%
    assert json.loads((out / "results.json").read_text())["models"][0]["counts"]["failed"] == 2


@pytest.mark.parametrize("bad", ["150%", "2", "-0.1", "ten"])
def test_a_bad_max_failed_is_a_usage_error(fake: FakeOpenAI, tmp_path, capsys, bad) -> None:
    code, _ = run(tmp_path, "--max-failed", bad)
    err = capsys.readouterr().err
    assert code == 2 and "--max-failed" in err and not fake.calls()
