"""``harness run`` against an OpenAI-compatible server as a new user and a CI job use it (issue 10, items 14 and
16): progress on stderr and the tables on stdout, ``--quiet``/``--verbose``, ``--dry-run`` without an API key
and with every check a real run makes, ``--only`` with a suite whose ``comparisons:`` name its own models."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, error_body
from openai_testkit import write_suite

from harness.cli.main import main

ROWS = [(f"ex{i:02d}", f"Post number {i} about the game", ("baseball", "hockey")[i % 2]) for i in range(30)]


@pytest.fixture
def served(fake: FakeOpenAI) -> FakeOpenAI:
    fake.default_top = [("base", math.log(0.6)), ("h", math.log(0.4))]
    return fake


def run(capsys, *args: Any) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def suite_with_comparisons(tmp_path: Path) -> Path:
    return write_suite(tmp_path / "suite", ROWS, metrics=["accuracy", "log_loss"],
                       models={"base": "demo:base", "tuned": "demo:finetuned"}, baseline="base",
                       comparisons=[["tuned", "base"]])


def test_progress_goes_to_stderr_and_stdout_keeps_the_tables(served, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "suite", ROWS, metrics=["accuracy"])
    code, out, err = run(capsys, "run", suite, "--only", "--model", "x=openai:gpt-4o-mini", "--out", tmp_path / "o",
                         "--no-report", "--progress", "plain")
    assert code == 0, err
    assert "progress: x: 30/30 (100%)" in err
    assert "progress:" not in out and "held-out examples, labels" not in out and "notice" not in out
    assert "accuracy" in out and "x: 30 requests sent (30 answered), 0 cached" in out
    assert out.rstrip().splitlines()[-1] == f"results: {tmp_path / 'o' / 'results.json'}"


def test_quiet_leaves_stderr_to_warnings_and_errors_and_verbose_says_more(served, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "suite", ROWS, metrics=["accuracy"])
    reasons = {3: "first", 5: "second", 7: "third", 9: "fourth"}
    for i, word in reasons.items():
        served.inject(400, error_body(f"the {word} prompt was flagged", code="invalid_prompt"), times=None,
                      when=lambda b, i=i: b["messages"][-1]["content"].startswith(f"Post number {i} "))
    args = ["run", suite, "--only", "--model", "x=openai:gpt-4o-mini", "--out", tmp_path / "o", "--no-report",
            "--progress", "plain", "--max-failed", "20%"]
    code, out, err = run(capsys, *args, "--quiet")
    assert code == 0 and "data check: warning  too-small" in err  # a 30-example set: the warning stays
    assert all(line.startswith("  data check: warning") for line in err.splitlines() if line.strip()), err
    assert "accuracy" in out and sum("prompt was flagged" in line for line in out.splitlines()) == 3
    assert "1 more failure reasons in results.json (--verbose lists them)" in out

    code, out, err = run(capsys, *args, "--verbose")
    assert code == 0, err
    assert sum("prompt was flagged" in line for line in out.splitlines()) == 4
    assert "timings: load" in err and "max failed 20%" in err and "progress: x:" in err

    code, _, err = run(capsys, *args, "--quiet", "--verbose")
    assert code == 2 and "--quiet and --verbose" in err


def test_dry_run_needs_no_api_key(served, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", served.azure_endpoint)
    suite = write_suite(tmp_path / "suite", ROWS, metrics=["accuracy"])
    code, out, err = run(capsys, "run", suite, "--only", "--model", "x=openai:gpt-4o-mini", "--model",
                         "c=openai-completions:babbage-002", "--model", "az=azure:my-deployment", "--option",
                         "az.tokenizer=o200k_base", "--out", tmp_path / "o", "--dry-run")
    assert code == 0, err
    assert "dry run: estimated tokens and cost" in out and all(name in out for name in ("x", "c", "az"))
    assert not served.calls("/v1/") and not (tmp_path / "o").exists()  # a free tokenizer probe at most
    # the real run still says what is missing, before anything is sent
    code, _, err = run(capsys, "run", suite, "--only", "--model", "x=openai:gpt-4o-mini", "--out", tmp_path / "o")
    assert code == 3 and "no API key: set the environment variable OPENAI_API_KEY" in err
    assert not served.calls("/v1/")


@pytest.mark.parametrize("dry", [False, True])
def test_only_drops_the_suites_comparisons_with_a_notice(served, tmp_path, capsys, dry) -> None:
    """The bundled suite names `comparisons: [[job/final, job/ckpt-step-22]]`: with --only those models are not
    in the run, and every OpenAI example of the README exited 2 (the dry run did not notice)."""
    extra = ["--dry-run"] if dry else ["--no-report", "--bootstrap", "50"]
    code, out, err = run(capsys, "run", "baseball-hockey", "--only", "--model", "a=openai:gpt-4o-mini", "--model",
                         "b=openai:ft:gpt-4o-mini-2024-07-18:my-org::abc123", "--out", tmp_path / "o", *extra)
    assert code == 0, err
    said = " ".join(err.split())
    assert "comparison [job/final, job/ckpt-step-22]" in said and "is left out" in said and "--only" in said
    assert "the suite's baseline 'job/base' is not in this run: comparing against 'a'" in said
    if not dry:
        results = json.loads((tmp_path / "o" / "results.json").read_text())
        assert [(p["a"], p["b"]) for p in results["comparisons"]["pairs"]] == [("b", "a")]
        assert any("job/final" in n for n in results["engine"]["notices"])


def test_without_only_a_comparison_naming_no_model_is_still_an_error(served, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "suite", ROWS, metrics=["accuracy"], models={"base": "demo:base"},
                        comparisons=[["base", "tunde"]])
    (suite / "train.jsonl").write_text((suite / "heldout.jsonl").read_text())
    text = (suite / "suite.yaml").read_text()
    train = "format: openai-jsonl\n  train: train.jsonl"
    (suite / "suite.yaml").write_text(text.replace("format: openai-jsonl", train))
    for extra in (["--dry-run"], []):
        code, out, err = run(capsys, "run", suite, "--out", tmp_path / "o", *extra)
        assert code == 2, err
        [line] = err.strip().splitlines()
        assert "comparisons[0][1]: no model named 'tunde'" in line
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("bad, where", [
    (["--metric", "acuracy"], "unknown metric 'acuracy'"),
    (["--option", "y.logit_bias=true", "--option", "y.tokenizer=none"], "logit_bias needs"),
    (["--model", "z=openai:my-local-model", "--max-cost", "1"], "--max-cost needs a price for model(s) y, z"),
])
def test_dry_run_makes_every_check_of_a_real_run(served, tmp_path, capsys, bad, where) -> None:
    suite = write_suite(tmp_path / "suite", ROWS, metrics=["accuracy"])
    code_dry, _, err_dry = run(capsys, "run", suite, "--only", "--model", "y=openai:gpt-4o-mini", *bad, "--out",
                               tmp_path / "o", "--dry-run")
    code_real, _, err_real = run(capsys, "run", suite, "--only", "--model", "y=openai:gpt-4o-mini", *bad, "--out",
                                 tmp_path / "o")
    assert code_dry == code_real == 2
    assert err_dry == err_real and where in err_dry
    assert not served.calls()


def test_dry_run_catches_an_unknown_metric_in_the_suite(served, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "suite", ROWS, metrics=["accuracy", "aucroc"])
    code, out, err = run(capsys, "run", suite, "--only", "--model", "x=openai:gpt-4o-mini", "--dry-run")
    assert code == 2 and "metrics[1]: unknown metric 'aucroc'" in err and not out
