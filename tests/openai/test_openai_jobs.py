"""openai-job:ftjob-… — a fine-tuning job expands into base + checkpoints + final, with its training curves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAI, b64, checkpoint_body, event_body, job_body, logprobs_of, result_csv
from openai_testkit import KEY, SEP, write_suite

from harness.cli.main import main
from harness.errors import ProviderError, UsageError
from harness.plugins import load_registry
from harness.providers import ModelSpec
from harness.suite import load_suite
from harness_plugins.providers.openai.jobs import decode_result_file, parse_curves

JOB = "ftjob-abc123"
BASE = "gpt-4o-mini-2024-07-18"
FINAL = f"ft:{BASE}:org:clf:abc123"
ROWS = [("a", "Nobody can hit lefties", "baseball"), ("b", "Benched the captain in the third", "hockey"),
        ("c", "Bullpen blew it again", "baseball"), ("d", "Power play went 0 for 6", "hockey")]


def ckpt_model(step: int) -> str:
    return f"{FINAL}:ckpt-step-{step}"


def curve_rows(n: int = 90) -> list[dict[str, float | None]]:
    rows = []
    for step in range(1, n + 1):
        valid = step % 10 == 0
        rows.append({"step": step, "train_loss": round(2.0 * math.exp(-step / 30), 6),
                     "train_accuracy": round(min(1.0, 0.5 + step / 180), 6),
                     "valid_loss": round(2.1 * math.exp(-step / 35), 6) if valid else None,
                     "valid_mean_token_accuracy": round(min(1.0, 0.45 + step / 200), 6) if valid else None})
    return rows


def add_job(fake: FakeOpenAI, *, status: str = "succeeded", encoded: bool = True, steps=(30, 60, 90),
            result: bool = True, events=()) -> None:
    csv_text = result_csv(curve_rows())
    files = [fake.add_file(b64(csv_text) if encoded else csv_text, file_id="file-results01")] if result else []
    ckpts = [checkpoint_body(JOB, s, ckpt_model(s), {"train_loss": 0.5 / s, "train_mean_token_accuracy": 0.9,
                                                     "valid_loss": 0.6 / s, "valid_mean_token_accuracy": 0.88})
             for s in steps]
    fake.add_job(job_body(JOB, model=BASE, status=status, result_files=files,
                          fine_tuned_model=FINAL if status == "succeeded" else None),
                 checkpoints=ckpts, events=events)


@pytest.fixture
def suite(tmp_path: Path):
    return load_suite(write_suite(tmp_path / "s", ROWS))


@pytest.fixture(scope="module")
def registry():
    return load_registry(entry_points=False)


def resolve(registry, suite, argument: str = JOB, **options):
    spec = ModelSpec("job", "openai-job", argument, options, origin="--model")
    return registry.providers["openai-job"].resolve(spec, suite)


def test_a_job_expands_into_base_checkpoints_and_final_in_step_order(fake, registry, suite) -> None:
    fake.max_page = 2  # three checkpoints over two pages: the provider must follow `after`
    add_job(fake, steps=(60, 30, 90))
    resolved = resolve(registry, suite)
    names = [m.name for m in resolved.models]
    assert names == ["job/base", "job/ckpt-step-30", "job/ckpt-step-60", "job/ckpt-step-90", "job/final"]
    assert [m.model_id for m in resolved.models] == [BASE, ckpt_model(30), ckpt_model(60), ckpt_model(90), FINAL]
    assert [m.describe()["role"] for m in resolved.models] == ["base", "checkpoint", "checkpoint", "checkpoint",
                                                               "finetuned"]
    pages = [c for c in fake.calls("/checkpoints")]
    assert len(pages) == 2 and "after" not in pages[0].query
    assert pages[1].query["after"] == "ftckpt_abc12300060"  # the last id of the first page (newest first)

    t = resolved.training
    assert t["kind"] == "openai-job" and t["source"] == f"openai-job:{JOB}" and t["base_model"] == "job/base"
    assert t["job"]["id"] == JOB and t["job"]["model"] == BASE and t["job"]["fine_tuned_model"] == FINAL
    assert t["job"]["status"] == "succeeded" and t["job"]["trained_tokens"] == 51234
    assert t["job"]["hyperparameters"] == {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8}
    assert [(c["model"], c["step"]) for c in t["checkpoints"]] == [
        ("job/ckpt-step-30", 30), ("job/ckpt-step-60", 60), ("job/ckpt-step-90", 90), ("job/final", 90)]
    assert t["checkpoints"][0]["metrics"]["valid_loss"] == pytest.approx(0.02)
    assert t["checkpoints"][-1]["metrics"] == t["checkpoints"][-2]["metrics"]  # same step, same weights
    curves = t["curves"]
    assert set(curves) == {"step", "train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy"}
    assert curves["step"] == list(range(1, 91))
    assert curves["train_loss"][0] == pytest.approx(2.0 * math.exp(-1 / 30), abs=1e-6)
    assert curves["valid_loss"][0] is None and curves["valid_loss"][9] == pytest.approx(2.1 * math.exp(-10 / 35),
                                                                                         abs=1e-6)
    assert "notes" not in t and KEY not in json.dumps(t)


def test_a_plain_csv_and_missing_columns(fake, registry, suite) -> None:
    add_job(fake, encoded=False)
    assert resolve(registry, suite).training["curves"]["step"][-1] == 90
    text = "step,train_loss,epoch\n1,0.9,1\n2,,1\n3,0.7,1\n"
    assert parse_curves(text) == {"step": [1, 2, 3], "train_loss": [0.9, None, 0.7]}
    assert decode_result_file(b64(text)) == text
    assert decode_result_file(b"\xef\xbb\xbf" + text.encode()) == text
    assert decode_result_file(b"not a csv at all") is None
    assert parse_curves("step,train_loss\n") == {}


def test_a_running_job_scores_the_checkpoints_that_exist(fake, registry, suite) -> None:
    events = [event_body(f"ftevent-{s}", f"Step {s}/90: training loss={0.1 * s:.2f}", type="metrics",
                         data={"step": s, "train_loss": 1 / s, "train_mean_token_accuracy": 0.5 + s / 200,
                               "total_steps": 90}, created_at=1_730_000_000 + s) for s in range(1, 41)]
    events.append(event_body("ftevent-start", "Fine-tuning job started", created_at=1_730_000_000))
    fake.max_page = 15
    add_job(fake, status="running", steps=(30,), result=False, events=events)
    resolved = resolve(registry, suite)
    assert [m.name for m in resolved.models] == ["job/base", "job/ckpt-step-30"]
    t = resolved.training
    assert "no final model yet" in t["notes"][0] and "metrics events" in t["notes"][1]
    assert t["curves"]["step"] == list(range(1, 41))
    assert t["curves"]["train_loss"][3] == pytest.approx(0.25)
    assert t["curves"]["train_mean_token_accuracy"][0] == pytest.approx(0.505)


@pytest.mark.parametrize("setup, match", [
    (lambda f: f.add_job(job_body(JOB, status="failed", error={"code": "invalid_training_file",
                                                               "message": "Training file has 3 examples",
                                                               "param": "training_file"})),
     f"fine-tuning job {JOB} failed: Training file has 3 examples"),
    (lambda f: f.add_job(job_body(JOB, status="cancelled")), "cancelled"),
    (lambda f: f.add_job(job_body(JOB, status="queued")), "queued and has no checkpoints yet"),
    (lambda f: None, f"fine-tuning job {JOB} not found \\(404\\).*check the job id"),
])
def test_job_errors(fake, registry, suite, setup, match) -> None:
    setup(fake)
    with pytest.raises(ProviderError, match=match):
        resolve(registry, suite)


def test_job_argument_and_key_errors(fake, registry, suite, monkeypatch) -> None:
    with pytest.raises(UsageError, match="takes a fine-tuning job id"):
        resolve(registry, suite, "gpt-4o-mini")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-000000")
    add_job(fake)
    with pytest.raises(ProviderError, match=r"authentication failed \(401\).*check OPENAI_API_KEY") as info:
        resolve(registry, suite)
    assert "sk-wrong-key-000000" not in str(info.value)


def test_harness_run_sweeps_a_jobs_checkpoints_and_records_curves(fake, tmp_path, capsys) -> None:
    add_job(fake)
    root = write_suite(tmp_path / "job-suite", ROWS, metrics=["accuracy", "log_loss"])
    for i, (_, text, label) in enumerate(ROWS):
        p = 0.6 + 0.1 * i / len(ROWS)
        first = "base" if label == "baseball" else "h"
        other = "h" if label == "baseball" else "base"
        fake.script(text + SEP, logprobs_of({first: p, other: 1 - p - 0.01, "The": 0.01}))
    out = tmp_path / "out"
    code = main(["run", str(root), "--model", f"job=openai-job:{JOB}", "--only", "--out", str(out), "--no-report",
                 "--progress", "off"])
    assert code == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    assert [m["name"] for m in results["models"]] == ["job/base", "job/ckpt-step-30", "job/ckpt-step-60",
                                                      "job/ckpt-step-90", "job/final"]
    assert all(m["metrics"]["accuracy"]["value"] == 1.0 for m in results["models"])
    training = results["training"]["job"]
    assert training["kind"] == "openai-job" and training["curves"]["step"] == list(range(1, 91))
    assert [c["step"] for c in training["checkpoints"]] == [30, 60, 90, 90]
    sent = {c.json["model"] for c in fake.calls("/chat/completions")}
    assert sent == {BASE, ckpt_model(30), ckpt_model(60), ckpt_model(90), FINAL}
