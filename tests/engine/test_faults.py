"""(a) Under injected faults a run completes: every example is scored or failed with its reason."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from harness.engine import EngineOptions
from harness.runner import RunOptions, run
from harness.suite import load_suite

from .conftest import results_and_rows, write_suite
from .fault_server import FaultServer

POISON, REJECT, UNBUILDABLE = {3, 97}, {10}, {42}


def test_run_completes_under_faults(tmp_path: Path, faulty_server: FaultServer, registry: Any) -> None:
    special = {**{i: " POISON" for i in POISON}, **{i: " REJECT" for i in REJECT},
               **{i: " UNBUILDABLE" for i in UNBUILDABLE}}
    n = 240
    suite = load_suite(write_suite(tmp_path / "suite", faulty_server.base_url, n=n, special=special))
    opts = EngineOptions(concurrency=16, max_attempts=6, backoff_base=0.01, backoff_max=0.05, timeout=0.4)
    outcome = run(suite, registry, RunOptions(out_dir=tmp_path / "out", engine=opts))
    res, rows = results_and_rows(tmp_path / "out")

    assert not outcome.model_errors
    expected_failed = {f"ex{i:05d}" for i in POISON | REJECT | UNBUILDABLE}
    for m in res["models"]:
        mine = [r for r in rows if r["model"] == m["name"]]
        assert len(mine) == n
        failed = {r["id"] for r in mine if r["status"] == "failed"}
        assert failed == expected_failed
        assert all(r["error"] for r in mine if r["status"] == "failed")
        assert all(r["pred"] is not None and r["probs"] for r in mine if r["status"] != "failed")
        assert m["counts"]["failed"] == len(expected_failed)
        assert m["failures"] == {"HTTP 500 server error (gave up after 6 attempts)": 2,
                                 "HTTP 400: Error code: 400 - rejected by the fake": 1,
                                 "prompt cannot be built": 1}
        u = m["usage"]
        assert u["requests"] == n - len(expected_failed) and u["cached"] == 0
        assert u["rate_limited"] > 0 and u["retries"] > u["rate_limited"]
        assert m["cost"]["usd"] > 0 and m["cost"]["complete"]

    # the faults really happened: 429s, 500s, stalls (timeouts) and truncated bodies were all retried
    ok_prompts = [k for k in faulty_server.ok if "POISON" not in k[1] and "REJECT" not in k[1]]
    assert len(ok_prompts) == 2 * (n - len(expected_failed))
    assert all(faulty_server.ok[p] == 1 for p in ok_prompts)
    assert faulty_server.total_requests() > 1.3 * 2 * n  # two models, 30 % of first attempts rate-limited


def test_a_bad_request_or_a_provider_bug_loses_no_other_results(tmp_path: Path, server: FaultServer, registry: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    double = sys.modules["harness_local_plugin_chatdouble"]
    build = double.DoubleModel.build_request

    def buggy(self: Any, example: Any) -> dict[str, Any]:
        if self.model_id.startswith("ft:"):
            raise KeyError("messages")  # a provider bug: stops this model only
        request = build(self, example)
        if example.id == "ex00002":
            request["temperature"] = float("nan")  # not JSON: fails this example only
        return request

    monkeypatch.setattr(double.DoubleModel, "build_request", buggy)
    suite = load_suite(write_suite(tmp_path / "suite", server.base_url, n=10))
    outcome = run(suite, registry, RunOptions(out_dir=tmp_path / "out", engine=EngineOptions(cache=False)))
    res, rows = results_and_rows(tmp_path / "out")

    assert outcome.model_errors == {"tuned": "internal error in provider: KeyError: 'messages'"}
    base, tuned = res["models"]
    assert base["counts"]["failed"] == 1 and base["counts"]["n"] == 10 and "error" not in base
    [reason] = base["failures"]
    assert reason.startswith("could not build the request (ValueError: ")
    assert tuned["error"] == "internal error in provider: KeyError: 'messages'" and tuned["counts"]["failed"] == 10
    assert len(rows) == 20 and server.total_requests() == 9
