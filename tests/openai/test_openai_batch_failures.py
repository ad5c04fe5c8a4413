"""Batch API failures explained and never sticky (issue 10, item 13): the server's reasons for a failed batch
(``errors.data``: an enqueued-token limit, input lines that did not validate) reach the error, the predictions
and results.json; a stored batch id the server no longer knows is forgotten with a notice; ``--refresh`` does
not resume a stored batch; the messages say how to get out."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, error_body
from openai_testkit import write_suite

from harness.cli.main import main

ROWS = [(f"ex{i:02d}", f"Post number {i} about the game", ("baseball", "hockey")[i % 2]) for i in range(12)]
TOKEN_LIMIT = ("Enqueued token limit reached for gpt-4o-mini in organization org-abc. Limit: 2,000,000 enqueued "
               "tokens. Please try submitting fewer tasks.")


@pytest.fixture
def served(fake: FakeOpenAI) -> FakeOpenAI:
    fake.default_top = [("base", math.log(0.6)), ("h", math.log(0.4))]
    return fake


def run(tmp_path: Path, capsys, *args: Any) -> tuple[int, str]:
    suite = write_suite(tmp_path / "suite", ROWS, metrics=["accuracy"])
    capsys.readouterr()
    code = main(["run", str(suite), "--only", "--model", "x=openai:gpt-4o-mini", "--out", str(tmp_path / "out"),
                 "--no-report", "--batch", "--poll-interval", "0", "--max-attempts", "1", *map(str, args)])
    return code, capsys.readouterr().err


def stored_batches(tmp_path: Path) -> list[str]:
    path = tmp_path / "response-cache" / "cache.sqlite3"
    with sqlite3.connect(path) as db:
        return [bid for (bid,) in db.execute("SELECT batch_id FROM batches")]


def error_line(err: str) -> str:
    [line] = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    return line


@pytest.mark.parametrize("errors, shown", [
    ([{"code": "token_limit_exceeded", "message": TOKEN_LIMIT}], f"token_limit_exceeded: {TOKEN_LIMIT}"),
    ([{"code": "invalid_json_line", "message": "This line is not parseable as valid JSON.", "line": 3},
      {"code": "missing_required_parameter", "message": "Missing 'model' in body.", "line": 7, "param": "body.model"}],
     "invalid_json_line: This line is not parseable as valid JSON. (line 3); missing_required_parameter: "
     "Missing 'model' in body. (line 7, param body.model)"),
])
def test_a_failed_batch_says_why(served, tmp_path, capsys, errors, shown) -> None:
    served.batch_errors = errors
    code, err = run(tmp_path, capsys)
    assert code == 3
    line = error_line(err)
    assert shown in line, line
    assert "the same command submits a new one" in line and "without --batch" in line
    rows = [json.loads(r) for r in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert all(shown in r["error"] for r in rows)
    assert stored_batches(tmp_path) == []  # ended: nothing left to resume

    served.batch_errors = None  # the limit was lifted: the same command goes through
    code, err = run(tmp_path, capsys)
    assert code == 0, err


def _record_a_batch_then_fail_polling(served: FakeOpenAI, tmp_path: Path, capsys) -> str:
    """A run that submits its batch, then cannot poll it (500s): the batch stays recorded for resuming."""
    fault = served.inject(500, error_body("The server had an error", "server_error"), times=None,
                          path="/v1/batches/")
    code, err = run(tmp_path, capsys)
    served.faults.remove(fault)
    assert code == 3
    line = error_line(err)
    assert "stays recorded in the response cache, so the same command resumes it" in line
    assert "--refresh submits the requests in a new batch" in line
    [bid] = stored_batches(tmp_path)
    return bid


def test_a_stored_batch_the_server_does_not_know_is_forgotten(served, tmp_path, capsys) -> None:
    bid = _record_a_batch_then_fail_polling(served, tmp_path, capsys)
    served.batches.clear()  # a server restart, or another key or project on the same base URL
    code, err = run(tmp_path, capsys)
    assert code == 0, err
    said = " ".join(err.split())
    assert f"batch {bid}, recorded by an earlier run, is unknown to the server" in said and "forgotten" in said
    assert len(served.calls("/v1/batches")) >= 2 and len(served.batches) == 1
    assert stored_batches(tmp_path) == []
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["models"][0]["counts"]["failed"] == 0
    assert any("unknown to the server" in n for n in results["engine"]["notices"])


def test_refresh_does_not_resume_a_stored_batch(served, tmp_path, capsys) -> None:
    bid = _record_a_batch_then_fail_polling(served, tmp_path, capsys)
    code, err = run(tmp_path, capsys, "--refresh")
    assert code == 0, err
    assert f"--refresh: batch {bid} recorded by an earlier run is not resumed" in " ".join(err.split())
    assert len(served.batches) == 2  # a new batch, not the stored one


def test_without_refresh_the_stored_batch_is_resumed(served, tmp_path, capsys) -> None:
    bid = _record_a_batch_then_fail_polling(served, tmp_path, capsys)
    code, err = run(tmp_path, capsys)
    assert code == 0, err
    assert f"resuming batch {bid}" in " ".join(err.split()) and len(served.batches) == 1
