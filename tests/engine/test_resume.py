"""The durable cache end to end: kill -9 and resume, cached re-runs, --offline, metric changes, no keys stored."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.plugins import load_registry
from harness.runner import RunOptions, run
from harness.suite import load_suite

from .conftest import (
    API_KEY,
    DOUBLE,
    cached_count,
    comparable,
    harness_subprocess,
    results_and_rows,
    run_cli,
    write_suite,
)
from .fault_server import FaultServer, prompt_of


def _run(suite: Path, out: Path, *extra: str) -> int:
    return run_cli("run", str(suite), "--plugin", str(DOUBLE), "--out", str(out), "--no-report", *extra)


def _cached_prompts(path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT request FROM responses")
        return {(json.loads(r)["model"], prompt_of(json.loads(r))) for (r,) in rows}


def test_ctrl_c_exits_130_and_the_same_command_resumes(tmp_path: Path, cache_file: Path) -> None:
    n = 120
    with FaultServer(seed=4, latency=0.03) as srv:
        suite = write_suite(tmp_path / "suite", srv.base_url, n=n, models={"base": "gpt-4o-mini"})
        args = ("run", str(suite), "--plugin", str(DOUBLE), "--out", str(tmp_path / "out"), "--no-report",
                "--concurrency", "2", "--progress", "off")
        proc = harness_subprocess(*args, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while cached_count(cache_file) < n // 4 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 130, err  # a CI job must not take an interrupted run for a success
        assert err.decode().strip().splitlines()[-1].startswith("interrupted (Ctrl-C): ")
        done = cached_count(cache_file)
        assert n // 4 <= done < n

        assert _run(suite, tmp_path / "out", "--concurrency", "2") == 0
        assert len(srv.ok) == n and sum(srv.ok.values()) <= n + 2  # only the 2 in flight were asked again
        res, _ = results_and_rows(tmp_path / "out")
        assert res["models"][0]["usage"]["cached"] >= done


def test_kill_halfway_then_resume(tmp_path: Path, cache_file: Path) -> None:
    n = 240
    with FaultServer(seed=3, latency=0.03) as srv:
        suite = write_suite(tmp_path / "suite", srv.base_url, n=n, models={"base": "gpt-4o-mini"})
        proc = harness_subprocess("run", str(suite), "--plugin", str(DOUBLE), "--out", str(tmp_path / "out"),
                                  "--no-report", "--concurrency", "4", "--progress", "off")
        deadline = time.monotonic() + 30
        while cached_count(cache_file) < n // 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
        done_before_kill = _cached_prompts(cache_file)
        assert n // 2 <= len(done_before_kill) < n
        assert not (tmp_path / "out" / "results.json").exists()

        assert _run(suite, tmp_path / "out", "--concurrency", "4") == 0  # resume: the same command again
        for key in done_before_kill:
            assert srv.ok[key] == 1 and srv.requests[key] == 1, key  # completed work was never requested again
        assert len(srv.ok) == n
        assert sum(srv.ok.values()) <= n + 4  # at most the requests in flight at the kill were repeated
        res, _ = results_and_rows(tmp_path / "out")
        assert res["models"][0]["usage"]["cached"] == len(done_before_kill)

        # an uninterrupted run with a fresh cache gives the same results
        assert _run(suite, tmp_path / "fresh", "--cache", str(tmp_path / "other.sqlite3")) == 0
    assert comparable(tmp_path / "out") == comparable(tmp_path / "fresh")


def test_cached_rerun_sends_nothing(tmp_path: Path, server: FaultServer) -> None:
    suite = write_suite(tmp_path / "suite", server.base_url, n=50)
    assert _run(suite, tmp_path / "a") == 0
    sent = server.total_requests()
    assert sent == 100
    assert _run(suite, tmp_path / "b") == 0
    assert server.total_requests() == sent
    res, _ = results_and_rows(tmp_path / "b")
    for m in res["models"]:
        assert m["usage"]["requests"] == 0 and m["usage"]["cached"] == 50
        assert m["cost"]["spent_usd"] == 0 and m["cost"]["usd"] > 0
    assert comparable(tmp_path / "a") == comparable(tmp_path / "b")

    assert _run(suite, tmp_path / "c", "--refresh") == 0  # --refresh asks again
    assert server.total_requests() == 2 * sent
    assert _run(suite, tmp_path / "d", "--no-cache") == 0
    assert server.total_requests() == 3 * sent


def test_offline_and_metric_change_cost_no_calls(tmp_path: Path, server: FaultServer) -> None:
    suite = write_suite(tmp_path / "suite", server.base_url, n=40)
    assert _run(suite, tmp_path / "a") == 0
    sent = server.total_requests()

    assert _run(suite, tmp_path / "acc", "--metric", "accuracy") == 0  # another metric: recomputed from cache
    assert _run(suite, tmp_path / "off", "--offline", "--metric", "f1_macro", "--metric", "log_loss") == 0
    assert server.total_requests() == sent
    full, _ = results_and_rows(tmp_path / "a")
    acc, _ = results_and_rows(tmp_path / "acc")
    off, _ = results_and_rows(tmp_path / "off")
    for a, b, c in zip(full["models"], acc["models"], off["models"]):
        assert b["metrics"]["accuracy"] == a["metrics"]["accuracy"]
        assert set(b["metrics"]) == {"accuracy"}
        assert c["metrics"]["log_loss"] == a["metrics"]["log_loss"]
        assert c["metrics"]["f1_macro"] == a["metrics"]["f1_macro"]

    # offline, a model never run before: every example fails with "not in cache", still no call (exit 3: more
    # than --max-failed of its examples failed; results are written all the same)
    assert _run(suite, tmp_path / "new", "--offline", "-m", "other=chatdouble:gpt-4.1-nano",
                "-o", f"other.base_url={server.base_url}") == 3
    assert server.total_requests() == sent
    new, _ = results_and_rows(tmp_path / "new")
    other = next(m for m in new["models"] if m["name"] == "other")
    assert other["failures"] == {"not in cache": 40} and other["counts"]["failed"] == 40


def test_offline_conflicts_are_usage_errors(tmp_path: Path, server: FaultServer,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    suite = write_suite(tmp_path / "suite", server.base_url, n=3)
    assert _run(suite, tmp_path / "x", "--offline", "--refresh") == 2
    assert "--offline" in capsys.readouterr().err


def test_api_key_never_reaches_the_cache(tmp_path: Path, server: FaultServer, cache_file: Path) -> None:
    suite = write_suite(tmp_path / "suite", server.base_url, n=30)
    assert _run(suite, tmp_path / "a", "--batch", "--poll-interval", "0.01") == 0
    assert _run(suite, tmp_path / "b", "--refresh") == 0
    assert server.auth_headers == {f"Bearer {API_KEY}"}  # the key was used...
    blob = b"".join(p.read_bytes() for p in cache_file.parent.iterdir())
    assert cached_count(cache_file) == 60
    assert API_KEY.encode() not in blob  # ...and never stored, in the database or its WAL
    for out in ("a", "b"):
        assert API_KEY not in (tmp_path / out / "results.json").read_text()
        assert API_KEY not in (tmp_path / out / "predictions.jsonl").read_text()


def test_a_provider_leaking_its_key_is_refused(tmp_path: Path, server: FaultServer, cache_file: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    registry = load_registry([str(DOUBLE)], entry_points=False)
    double = sys.modules["harness_local_plugin_chatdouble"]
    monkeypatch.setattr(double.DoubleModel, "cache_identity",
                        lambda self: {"provider": "chatdouble", "key": API_KEY})
    suite = write_suite(tmp_path / "suite", server.base_url, n=5, models={"leaky": "gpt-4o-mini"})
    outcome = run(load_suite(suite), registry, RunOptions(out_dir=tmp_path / "out"))
    assert "refusing to cache" in outcome.model_errors["leaky"]
    assert server.total_requests() == 0
    assert not cache_file.exists() or API_KEY.encode() not in cache_file.read_bytes()
