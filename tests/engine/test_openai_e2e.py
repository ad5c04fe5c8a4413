"""The engine with the real ``openai`` provider against the fault-injecting server (requests and Batch API)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.engine import EngineOptions
from harness.runner import RunOptions, run
from harness.suite import load_suite

from .conftest import results_and_rows, run_cli
from .fault_server import LABELS, FaultServer


@pytest.fixture(autouse=True)
def _needs_openai_provider(registry: Any) -> None:
    if "openai" not in registry.providers:
        pytest.skip("the openai provider is not installed")


def _suite(root: Path, base_url: str, n: int, poison: frozenset[int] = frozenset()) -> Path:
    root.mkdir(parents=True)

    with (root / "heldout.jsonl").open("w") as fh:
        for i in range(n):
            text = f"Ticket {i}: about {LABELS[i % 5]}." + (" POISON" if i in poison else "")
            fh.write(json.dumps({"id": f"e{i}", "prompt": text, "completion": " " + LABELS[i % 5]}) + "\n")
    (root / "suite.yaml").write_text(
        "name: openai-e2e\ndata: {heldout: heldout.jsonl, format: openai-jsonl}\n"
        f"labels: [{', '.join(LABELS)}]\nprompt: {{separator: ''}}\nmetrics: [accuracy, log_loss]\n"
        "models:\n  base:\n    provider: openai\n    argument: gpt-4o-mini\n"
        f"    options: {{base_url: \"{base_url}\", api_key_env: CHATDOUBLE_API_KEY, pricing_model: gpt-4o-mini}}\n")
    return root


def test_openai_provider_under_faults_then_cached(tmp_path: Path, faulty_server: FaultServer, registry: Any) -> None:
    suite = load_suite(_suite(tmp_path / "s", faulty_server.base_url, 80, poison=frozenset({5})))
    opts = EngineOptions(timeout=0.4, max_attempts=4, backoff_base=0.01, backoff_max=0.05)
    run(suite, registry, RunOptions(out_dir=tmp_path / "a", engine=opts))
    m = results_and_rows(tmp_path / "a")[0]["models"][0]
    assert m["counts"]["ok"] + m["counts"]["invalid"] == 79 and m["counts"]["failed"] == 1
    [(reason, count)] = m["failures"].items()
    assert count == 1 and "HTTP 500" in reason and "gave up after 4 attempts" in reason
    assert m["usage"]["rate_limited"] > 0 and m["cost"]["usd"] > 0
    sent = faulty_server.total_requests()
    run(suite, registry, RunOptions(out_dir=tmp_path / "b", engine=opts))
    assert faulty_server.total_requests() == sent + 4  # only the poisoned example is tried again
    assert results_and_rows(tmp_path / "b")[0]["models"][0]["usage"]["cached"] == 79


def test_openai_provider_batch(tmp_path: Path, server: FaultServer) -> None:
    suite = _suite(tmp_path / "s", server.base_url, 12)
    assert run_cli("run", str(suite), "--no-report", "--batch", "--poll-interval", "0.01",
                   "--out", str(tmp_path / "a")) == 0
    assert server.calls["batches.create"] == 1 and server.calls["chat"] == 0
    m = results_and_rows(tmp_path / "a")[0]["models"][0]
    assert m["usage"]["batched"] == 12 and m["counts"]["failed"] == 0
