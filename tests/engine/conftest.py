"""Fixtures for the engine tests: a fault-injecting OpenAI-protocol server, suites, a private cache."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.cli.main import main as cli_main
from harness.plugins import load_registry
from harness.results import load_predictions, load_results

from .fault_server import LABELS, Faults, FaultServer

HERE = Path(__file__).parent
DOUBLE = HERE / "chatdouble.py"
API_KEY = "sk-test-DO-NOT-STORE-0123456789abcdefXYZ"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own cache directory and the double's API key."""
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("CHATDOUBLE_API_KEY", API_KEY)
    monkeypatch.setenv("HARNESS_PROGRESS", "off")
    return cache_dir / "cache.sqlite3"


@pytest.fixture
def cache_file(_private_cache: Path) -> Path:
    return _private_cache


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(seed=7) as srv:
        yield srv


@pytest.fixture
def faulty_server() -> Iterator[FaultServer]:
    with FaultServer(faults=Faults(p429=0.30, p500=0.05, pstall=0.02, ptrunc=0.01, retry_after_ms=5,
                                   stall_seconds=1.5), seed=11) as srv:
        yield srv


@pytest.fixture
def registry() -> Any:
    return load_registry([str(DOUBLE)], entry_points=False)


def example_text(i: int, extra: str = "") -> str:
    label = LABELS[i % len(LABELS)]
    return f"Ticket {i}: a question about {label} from customer {i * 7919 % 1000}.{extra}"


def write_suite(root: Path, base_url: str, n: int = 60, models: dict[str, str] | None = None,
               special: dict[int, str] | None = None, extra: str = "") -> Path:
    """A 5-label suite of ``n`` examples served by the double; ``special`` appends POISON/REJECT markers."""
    root.mkdir(parents=True, exist_ok=True)
    special = special or {}
    with (root / "heldout.jsonl").open("w") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"ex{i:05d}", "prompt": example_text(i, special.get(i, "")) + "\n\n###\n\n",
                                 "completion": " " + LABELS[(i * 3) % len(LABELS) if i % 4 == 0
                                                            else i % len(LABELS)]}) + "\n")
    models = models or {"base": "gpt-4o-mini", "tuned": "ft:gpt-4o-mini-2024-07-18:acme::abc123"}
    model_yaml = "".join(f"  {name}:\n    provider: chatdouble\n    argument: \"{arg}\"\n"
                         f"    options: {{base_url: \"{base_url}\"}}\n" for name, arg in models.items())
    (root / "suite.yaml").write_text(
        "name: engine-test\n"
        "data: {heldout: heldout.jsonl, format: openai-jsonl}\n"
        f"labels: [{', '.join(LABELS)}]\n"
        "metrics: [accuracy, f1_macro, log_loss]\n"
        f"models:\n{model_yaml}{extra}")
    return root / "suite.yaml"


def run_cli(*args: str) -> int:
    return cli_main(list(args))


def results_and_rows(out: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    res = load_results(out / "results.json")
    return res, load_predictions(out / "results.json", res)


def comparable(out: Path) -> tuple[Any, Any]:
    """What must not depend on how a run got its responses: metrics, counts and every prediction."""
    res, rows = results_and_rows(out)
    models = {m["name"]: (m["metrics"], m["counts"], m["failures"]) for m in res["models"]}
    preds = sorted((r["model"], r["id"], r["pred"], r["status"], json.dumps(r["probs"], sort_keys=True),
                    r.get("error")) for r in rows)
    return models, preds


def cached_count(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        try:
            return db.execute("SELECT count(*) FROM responses").fetchone()[0]
        except sqlite3.OperationalError:  # the schema is not there yet
            return 0


def harness_subprocess(*args: str, env: dict[str, str] | None = None, stderr: Any = subprocess.DEVNULL,
                       ignore_sigint: bool = False) -> subprocess.Popen[bytes]:
    """``harness ARGS`` in a child process (to be killed): stdout is discarded, stderr too unless asked. With
    ``ignore_sigint`` it starts as a non-interactive shell starts a background job (SIGINT ignored)."""
    def dispositions() -> None:  # not inherited from whatever started the tests (nohup ignores SIGHUP)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN if ignore_sigint else signal.SIG_DFL)
    return subprocess.Popen([sys.executable, "-m", "harness.cli.main", *args], env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=dispositions)
