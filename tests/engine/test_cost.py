"""Tokens and cost: usage in results.json, suite pricing, (f) --max-cost and (g) --dry-run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from harness.runner import RunOptions, estimate
from harness.suite import load_suite

from .conftest import DOUBLE, results_and_rows, run_cli, write_suite
from .fault_server import FaultServer


def _run(suite: Path, out: Path, *extra: str) -> int:
    return run_cli("run", str(suite), "--plugin", str(DOUBLE), "--out", str(out), "--no-report", *extra)


def test_usage_and_cost_in_results(tmp_path: Path, server: FaultServer) -> None:
    suite = write_suite(tmp_path / "suite", server.base_url, n=20,
                        models={"base": "gpt-4o-mini", "tuned": "ft:gpt-4o-mini-2024-07-18:acme::x1",
                                "mystery": "my-local-model"},
                        extra="pricing:\n  my-local-model: {input: 1.0, output: 2.0}\n")
    assert _run(suite, tmp_path / "out") == 0
    res, _ = results_and_rows(tmp_path / "out")
    models = {m["name"]: m for m in res["models"]}
    for m in models.values():
        u = m["usage"]
        assert u["requests"] == 20 and u["prompt_tokens"] > 0 and u["completion_tokens"] == 20
    base, tuned, mystery = models["base"]["cost"], models["tuned"]["cost"], models["mystery"]["cost"]
    tokens = models["base"]["usage"]["prompt_tokens"]
    assert base["usd"] == pytest.approx((tokens * 0.15 + 20 * 0.60) / 1e6, abs=1e-6)
    assert tuned["source"].endswith("ft:gpt-4o-mini-2024-07-18")
    assert tuned["usd"] == pytest.approx(2 * base["usd"], abs=1e-6)
    assert mystery["source"].startswith("suite")
    assert res["cost"]["usd"] == pytest.approx(base["usd"] + tuned["usd"] + mystery["usd"], abs=1e-6)
    assert res["cost"]["complete"] and res["cost"]["budget_exhausted"] is False
    assert res["engine"]["concurrency"] == 32 and res["engine"]["cache"].endswith("cache.sqlite3")


def test_unpriced_model_has_unknown_cost(tmp_path: Path, server: FaultServer) -> None:
    suite = write_suite(tmp_path / "suite", server.base_url, n=5, models={"x": "no-such-model"})
    assert _run(suite, tmp_path / "out") == 0
    res, _ = results_and_rows(tmp_path / "out")
    assert res["models"][0]["cost"]["usd"] is None and res["cost"]["complete"] is False
    # and --max-cost refuses to start without a price: it could not keep its promise
    assert _run(suite, tmp_path / "out2", "--max-cost", "1") == 2


def test_max_cost_stops_and_keeps_what_is_done(tmp_path: Path, server: FaultServer,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  gpt-4o-mini: {input: 10000, output: 10000}\n")  # about $0.3 per request
    suite = write_suite(tmp_path / "suite", server.base_url, n=30, models={"base": "gpt-4o-mini"})
    rc = _run(suite, tmp_path / "out", "--prices", str(prices), "--max-cost", "3", "--concurrency", "4")
    assert rc == 5
    assert "--max-cost 3 USD reached" in capsys.readouterr().err
    res, rows = results_and_rows(tmp_path / "out")  # results were written
    m = res["models"][0]
    assert 0 < m["counts"]["ok"] < 30
    assert m["failures"] == {"budget exhausted": 30 - m["counts"]["ok"]}
    assert m["cost"]["spent_usd"] <= 3.0 and res["cost"]["budget_exhausted"] is True
    assert server.total_requests() == m["counts"]["ok"]  # nothing was sent past the budget

    # raising the budget finishes the run without paying twice for what is cached
    assert _run(suite, tmp_path / "out", "--prices", str(prices), "--max-cost", "100") == 0
    res, _ = results_and_rows(tmp_path / "out")
    assert res["models"][0]["counts"]["ok"] == 30 and server.total_requests() == 30


def test_dry_run_estimates_and_sends_nothing(tmp_path: Path, server: FaultServer,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    suite = write_suite(tmp_path / "suite", server.base_url, n=40)
    assert _run(suite, tmp_path / "out", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "estimated total: $" in out
    assert "ft:gpt-4o-mini-2024-07-18" in out and "gpt-4o-mini" in out
    assert server.total_requests() == 0
    assert not (tmp_path / "out").exists()
    assert _run(suite, tmp_path / "out", "--dry-run", "--max-cost", "0.000001") == 0
    assert "exceeds --max-cost" in capsys.readouterr().out

    # half of one model cached: the estimate counts only what would be sent
    half = write_suite(tmp_path / "half", server.base_url, n=20)
    assert _run(half, tmp_path / "h") == 0
    sent = server.total_requests()
    capsys.readouterr()
    assert _run(suite, tmp_path / "out", "--dry-run", "--batch") == 0
    out = capsys.readouterr().out
    assert server.total_requests() == sent
    assert "Batch API prices" in out and "half price" in out
    row = next(line for line in out.splitlines() if line.strip("│ ").startswith("base"))
    assert [c.strip() for c in row.split("│")][2:5] == ["40", "20", "20"]  # examples, cached, to send


def test_dry_run_tokenizes_each_request_once(tmp_path: Path, server: FaultServer, registry: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    double = sys.modules["harness_local_plugin_chatdouble"]
    calls: list[Any] = []
    real = double.DoubleModel.estimate_tokens

    def counting(self: Any, request: Any) -> Any:
        calls.append(request)
        return real(self, request)

    monkeypatch.setattr(double.DoubleModel, "estimate_tokens", counting)
    suite = load_suite(write_suite(tmp_path / "suite", server.base_url, n=6, models={"base": "gpt-4o-mini"}))
    [row] = estimate(suite, registry, RunOptions(out_dir=tmp_path / "out"))
    assert len(calls) == 6 and row["tokenizer"]  # once per request, the first one included

    monkeypatch.setattr(double.DoubleModel, "estimate_tokens", lambda self, request: None)
    [row] = estimate(suite, registry, RunOptions(out_dir=tmp_path / "out"))
    assert not row["tokenizer"] and row["prompt_tokens"] > 0
