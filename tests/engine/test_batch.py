"""(h) --batch against a fake Batch API (files upload/content, batches create/retrieve): cached examples are
reused, results are joined on custom_id and cached, an interrupted run resumes polling instead of resubmitting."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from harness.cache import Cache

from .conftest import DOUBLE, cached_count, comparable, harness_subprocess, results_and_rows, run_cli, write_suite
from .fault_server import FaultServer


def _run(suite: Path, out: Path, *extra: str) -> int:
    return run_cli("run", str(suite), "--plugin", str(DOUBLE), "--out", str(out), "--no-report", "--batch",
                   "--poll-interval", "0.02", *extra)


def test_batch_reuses_cache_and_joins_on_custom_id(tmp_path: Path, server: FaultServer) -> None:
    suite = write_suite(tmp_path / "suite", server.base_url, n=30, models={"base": "gpt-4o-mini"},
                        special={17: " REJECT"})
    part = write_suite(tmp_path / "part", server.base_url, n=10, models={"base": "gpt-4o-mini"})
    assert run_cli("run", str(part), "--plugin", str(DOUBLE), "--out", str(tmp_path / "p"), "--no-report") == 0
    assert server.calls["chat"] == 10

    assert _run(suite, tmp_path / "out") == 0
    assert server.calls["batches.create"] == 1 and server.calls["chat"] == 10
    assert server.calls["batch.line"] == 20  # only the 20 uncached requests went into the batch
    res, rows = results_and_rows(tmp_path / "out")
    m = res["models"][0]
    assert m["usage"] == {**m["usage"], "cached": 10, "requests": 19, "batched": 19}
    assert m["failures"] == {"batch: HTTP 400: rejected by the fake": 1}

    # batch responses are cached (and priced at half): a normal re-run sends nothing
    assert run_cli("run", str(suite), "--plugin", str(DOUBLE), "--out", str(tmp_path / "again"),
                   "--no-report") == 0
    assert server.calls["chat"] == 11  # only the rejected example is asked again
    again, _ = results_and_rows(tmp_path / "again")
    assert again["models"][0]["usage"]["cached"] == 29


def test_batch_price_is_half(tmp_path: Path, server: FaultServer) -> None:
    suite = write_suite(tmp_path / "suite", server.base_url, n=10, models={"base": "gpt-4o-mini"})
    assert _run(suite, tmp_path / "b") == 0
    assert run_cli("run", str(suite), "--plugin", str(DOUBLE), "--out", str(tmp_path / "r"), "--no-report",
                   "--no-cache") == 0
    batch, _ = results_and_rows(tmp_path / "b")
    normal, _ = results_and_rows(tmp_path / "r")
    assert batch["models"][0]["cost"]["usd"] == pytest.approx(normal["models"][0]["cost"]["usd"] / 2, rel=1e-3)
    assert comparable(tmp_path / "b") == comparable(tmp_path / "r")


def test_interrupted_batch_resumes_polling(tmp_path: Path, server: FaultServer, cache_file: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    suite = write_suite(tmp_path / "suite", server.base_url, n=25, models={"base": "gpt-4o-mini"})
    server.hold_batches = True  # the batch stays in_progress until we say so
    proc = harness_subprocess("run", str(suite), "--plugin", str(DOUBLE), "--out", str(tmp_path / "out"),
                              "--no-report", "--batch", "--poll-interval", "0.02", "--progress", "plain")
    deadline = time.monotonic() + 30
    while server.calls["batches.retrieve"] < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert server.calls["batches.create"] == 1 and cached_count(cache_file) == 0
    capsys.readouterr()
    assert run_cli("cache", "info", "--json") == 0  # the batch awaiting results is listed
    info = json.loads(capsys.readouterr().out)
    assert [b["batch_id"] for b in info["batches"]] == ["batch_000001"]
    assert info["batches"][0]["requests"] == 25 and info["batches"][0]["status"] in ("submitted", "in_progress")

    server.hold_batches = False
    assert _run(suite, tmp_path / "out") == 0
    assert server.calls["batches.create"] == 1  # resumed, not resubmitted
    assert server.calls["files.create"] == 1 and server.calls["chat"] == 0
    res, _ = results_and_rows(tmp_path / "out")
    assert res["models"][0]["counts"]["ok"] == 25 and res["models"][0]["usage"]["batched"] == 25
    assert any("resuming batch batch_000001" in n for n in res["engine"]["notices"])
    assert cached_count(cache_file) == 25

    # the batch record is gone once its results are cached; another run needs no batch at all
    assert _run(suite, tmp_path / "again") == 0
    assert server.calls["batches.create"] == 1 and server.calls["chat"] == 0


def test_model_without_batch_api_falls_back_with_a_notice(tmp_path: Path, server: FaultServer,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    suite = write_suite(tmp_path / "suite", server.base_url, n=8, models={"base": "gpt-4o-mini"})
    assert _run(suite, tmp_path / "out", "-o", "base.batch=false", "--progress", "plain") == 0
    assert server.calls["batches.create"] == 0 and server.calls["chat"] == 8
    assert "has no batch API" in capsys.readouterr().err  # notices go to stderr with the progress
    res, _ = results_and_rows(tmp_path / "out")
    assert any("has no batch API" in n for n in res["engine"]["notices"])


@pytest.mark.parametrize("failing", ["record_batch", "put_many", "put_many of requests"])
def test_cache_errors_around_a_batch_keep_its_results(tmp_path: Path, server: FaultServer, cache_file: Path,
                                                      monkeypatch: pytest.MonkeyPatch, failing: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A cache that cannot be written (full disk, read-only file) is a notice, never a lost batch — also when
    another model's failed write already closed it."""
    put_many = Cache.put_many

    def broken(self: Cache, *args: Any) -> None:
        if failing == "put_many of requests" and all(row[-1] == "batch" for row in args[0]):
            return put_many(self, *args)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Cache, failing.split()[0], broken)
    models = {"base": "gpt-4o-mini", "plain": "gpt-4o"}  # plain: ordinary requests, cached as they arrive
    suite = write_suite(tmp_path / "suite", server.base_url, n=12, models=models)
    assert _run(suite, tmp_path / "out", "-o", "plain.batch=false", "--progress", "off") == 0
    res, rows = results_and_rows(tmp_path / "out")
    base = res["models"][0]
    assert base["counts"]["failed"] == 0 and base["usage"]["batched"] == 12 and server.calls["batches.create"] == 1
    assert len(rows) == 12 * len(models) and all(r["status"] != "failed" for r in rows)
    [notice] = [n for n in res["engine"]["notices"] if "could not write to the response cache" in n]
    assert "disk I/O error" in notice
    err = " ".join(capsys.readouterr().err.split())  # notices go to stderr, with the progress
    assert err.count("could not write to the response cache") == 1  # shown once, even with --progress off


def test_a_batch_whose_every_line_failed_stops_the_model(tmp_path: Path, server: FaultServer,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    suite = write_suite(tmp_path / "suite", server.base_url, n=6, models={"base": "gpt-4o-mini"},
                        special={i: " REJECT" for i in range(6)})
    assert _run(suite, tmp_path / "out") == 3  # like the request path: nothing answered is a provider failure
    err = capsys.readouterr().err
    assert "all 6 batch requests of model base failed and none was answered" in err
    assert "rejected by the fake" in err
