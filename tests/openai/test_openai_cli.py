"""``harness run`` end to end against the fake OpenAI server: numbers, exit codes, messages, no key leaks."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes.openai_server import FakeOpenAI, error_body, logprobs_of
from openai_testkit import KEY, SEP, write_suite
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

from harness.cli.main import main

MODEL = "ft:gpt-4o-mini:org::abc"
LABELS = ("baseball", "hockey")
FIRST_TOKENS = {"baseball": ("base", " baseball"), "hockey": ("h", " hockey")}  # o200k_base
METRICS = ["accuracy", "precision", "recall", "fbeta", "f1_macro", "f1_weighted", "auroc", "auprc", "log_loss",
           "brier"]
TEXTS = ["Nobody can hit lefties on this team", "Benched the captain for the whole third period",
         "The bullpen blew another three-run lead", "Power play went 0 for 6 again tonight",
         "Trade rumours: a lefty reliever for prospects", "Goalie stood on his head, 41 saves",
         "Walk-off double in the tenth", "Overtime winner off a faceoff play",
         "Spring training notes: the new shortstop", "Icing call wiped out the rush",
         "Box score: 3 for 4 with two doubles", "Line changes are killing us on the road",
         "Is the designated hitter ruining the game?", "Penalty kill is top five in the league",
         "Rain delay, then a complete-game shutout", "Can anyone explain offside to me?"]
GOLD = [LABELS[i % 2] for i in range(len(TEXTS))]
ROWS = [(f"ex{i:02d}", t, g) for i, (t, g) in enumerate(zip(TEXTS, GOLD))]


def scripted_tops() -> list[dict[str, float]]:
    """Known top-k probabilities per example: mostly right, some wrong, variants, off-label mass, and two
    special cases (a label outside the top-k; a generated token that is no label)."""
    rng = random.Random(7)
    tops = []
    for i, gold in enumerate(GOLD):
        other = "hockey" if gold == "baseball" else "baseball"
        right = rng.uniform(0.55, 0.9) if i % 5 != 3 else rng.uniform(0.05, 0.3)  # every 5th is wrong
        probs = {FIRST_TOKENS[gold][0]: right * 0.8, FIRST_TOKENS[gold][1]: right * 0.2,
                 FIRST_TOKENS[other][0]: (1 - right) * 0.7}
        if i % 3 == 0:
            probs[FIRST_TOKENS[other][1]] = (1 - right) * 0.1
        probs["The"] = (1 - right) * 0.15
        probs["Base"] = (1 - right) * 0.05
        tops.append(probs)
    tops[5] = {"h": 0.9, " hockey": 0.05, "The": 0.03, "I": 0.02}  # baseball outside the top-k
    tops[6] = {"Sorry": 0.5, "base": 0.3, "h": 0.2}  # generated "Sorry": an invalid output
    return tops


def expected_probs(top: dict[str, float]) -> dict[str, float]:
    """Reference: exp(logprob) summed per label over its first-token variants, absent labels bounded by the
    smallest returned probability, renormalised over the labels."""
    mass = {lab: sum(p for t, p in top.items() if t in FIRST_TOKENS[lab]) for lab in LABELS}
    lowest = min(top.values())
    mass = {lab: m if any(t in top for t in FIRST_TOKENS[lab]) else lowest for lab, m in mass.items()}
    total = sum(mass.values())
    return {lab: m / total for lab, m in mass.items()}


def script(fake: FakeOpenAI) -> list[dict[str, float]]:
    tops = scripted_tops()
    for text, top in zip(TEXTS, tops):
        fake.script(text + SEP, logprobs_of(top))
    return tops


def harness(tmp_path: Path, *args: Any, suite: Path | None = None, report: bool = False) -> tuple[int, Path]:
    root = suite or write_suite(tmp_path / "bb", ROWS, metrics=METRICS)
    out = tmp_path / "out"
    argv = ["run", str(root), "--model", f"ft=openai:{MODEL}", "--only", "--out", str(out), "--progress", "off",
            *map(str, args)]
    if not report:
        argv.append("--no-report")
    return main(argv), out


def rows_of(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines() if line.strip()]


def test_probabilities_and_every_metric_match_scikit_learn(fake, tmp_path, capsys) -> None:
    tops = script(fake)
    code, out = harness(tmp_path)
    assert code == 0, capsys.readouterr().err
    rows = rows_of(out)
    assert [r["id"] for r in rows] == [r[0] for r in ROWS]
    for row, top in zip(rows, tops):
        expected = expected_probs(top)
        for lab in LABELS:
            assert abs(row["probs"][lab] - expected[lab]) <= 1e-9, (row["id"], lab)
    assert rows[5]["flags"] == ["label-outside-top-k"] and rows[5]["pred"] == "hockey"
    assert rows[6]["status"] == "invalid" and rows[6]["pred"] is None and rows[6]["output"] == "Sorry"
    assert rows[0]["extra"]["off_label_mass"] == pytest.approx(1 - sum(
        p for t, p in tops[0].items() if t not in ("The", "Base")), abs=1e-9)
    assert rows[0]["extra"]["request"]["top_logprobs"] == 20

    results = json.loads((out / "results.json").read_text())
    [model] = results["models"]
    assert model["counts"] == {**model["counts"], "n": 16, "ok": 15, "invalid": 1, "failed": 0, "flagged": 1}
    y = np.array([LABELS.index(g) for g in GOLD])
    proba = np.array([[r["probs"][lab] for lab in LABELS] for r in rows])
    y_pred = np.array([LABELS.index(r["pred"]) if r["pred"] else -1 for r in rows])
    pos = y == 1
    pred_pos = proba[:, 1] > 0.5
    expected = {
        "accuracy": accuracy_score(y, y_pred),
        "precision": precision_score(pos, pred_pos, zero_division=0),
        "recall": recall_score(pos, pred_pos, zero_division=0),
        "fbeta": f1_score(pos, pred_pos, zero_division=0),
        "f1_macro": f1_score(y, y_pred, labels=[0, 1], average="macro", zero_division=0),
        "f1_weighted": f1_score(y, y_pred, labels=[0, 1], average="weighted", zero_division=0),
        "auroc": roc_auc_score(pos, proba[:, 1]),
        "auprc": average_precision_score(pos, proba[:, 1]),
        "log_loss": log_loss(y, proba, labels=[0, 1]),
        "brier": brier_score_loss(pos, proba[:, 1]),
    }
    assert set(model["metrics"]) == set(METRICS)
    for name, value in expected.items():
        assert model["metrics"][name]["value"] == pytest.approx(value, abs=1e-12), name
    assert model["info"]["model"] == MODEL and model["info"]["tokenizer"] == "o200k_base"
    assert accuracy_score(y, y_pred) < 1.0  # the data has wrong and invalid answers: the check is not vacuous


def test_the_batch_api_gives_the_same_numbers(fake, tmp_path, capsys) -> None:
    tops = script(fake)
    code, out = harness(tmp_path, "--batch", "--poll-interval", "0")
    assert code == 0, capsys.readouterr().err
    assert [c.method for c in fake.calls("/v1/batches")][0] == "POST"
    assert not fake.calls("/chat/completions")  # everything went through the batch
    for row, top in zip(rows_of(out), tops):
        assert row["probs"] == pytest.approx(expected_probs(top), abs=1e-9)


def test_dry_run_counts_tokens_with_the_tokenizer_without_sending(fake, tmp_path, capsys) -> None:
    from harness_plugins.providers.openai.tokenizers import get_tokenizer

    code, _ = harness(tmp_path, "--dry-run")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # no model API call: only the (free) look-up of a compatible server's tokenize endpoint, which it lacks
    assert not fake.calls("/v1/")
    assert {c.path for c in fake.calls()} <= {"/tokenize", "/extras/tokenize"}
    o200k = get_tokenizer("o200k_base")
    expected = sum(o200k.count_chat([{"role": "user", "content": t + SEP}]) for t in TEXTS)
    assert f" {expected:,} " in captured.out and "no tokenizer" not in captured.out


def _one_line_error(err: str) -> str:
    """The error, one line (the data checks' warnings, printed before anything is scored, are not the error)."""
    lines = [line for line in err.strip().splitlines() if line.strip() and not line.lstrip().startswith("data check:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("setup, message", [
    (lambda f, mp: mp.setenv("OPENAI_API_KEY", "sk-wrong-0000000000000000"),
     r"authentication failed \(401\).*check OPENAI_API_KEY"),
    (lambda f, mp: f.missing_models.add(MODEL), r"model 'ft:gpt-4o-mini:org::abc' not found \(404\)"),
    (lambda f, mp: f.reasoning_models.add(MODEL), r"refuses logprobs \(403\)"),
    (lambda f, mp: f.no_logprobs_models.add(MODEL), r"returned no logprobs"),
    (lambda f, mp: mp.delenv("OPENAI_API_KEY"), r"no API key: set the environment variable OPENAI_API_KEY"),
])
def test_provider_errors_exit_3_with_one_line(fake, tmp_path, capsys, monkeypatch, setup, message) -> None:
    script(fake)
    setup(fake, monkeypatch)
    code, _ = harness(tmp_path)
    captured = capsys.readouterr()
    assert code == 3
    line = _one_line_error(captured.err)
    assert line.startswith("error: ")
    assert re.search(message, line), line
    assert "sk-wrong-0000000000000000" not in captured.err + captured.out


def test_labels_sharing_a_first_token_are_refused_before_any_request(fake, tmp_path, capsys) -> None:
    rows = [("a", "Overtime winner", "hockey"), ("b", "Home run", "h")]
    code, _ = harness(tmp_path, suite=write_suite(tmp_path / "clash", rows, labels=("hockey", "h")))
    line = _one_line_error(capsys.readouterr().err)
    # the run's data checks (harness validate) see it first, with the model's tokenizer, before anything is sent
    assert code == 2 and "label-first-token-collision" in line and "hockey and h begin with 'h'" in line
    assert "scoring: full" in line  # the way out for labels that one token cannot separate
    assert not fake.calls()
    # without the data checks, the provider refuses them itself when the model is prepared
    code, _ = harness(tmp_path, "--allow-data-errors", suite=write_suite(tmp_path / "clash2", rows,
                                                                          labels=("hockey", "h")))
    line = _one_line_error(capsys.readouterr().err)
    assert code == 2 and "labels 'hockey' and 'h' begin with the same token 'h'" in line and "scoring: full" in line
    assert not fake.calls("/v1/")  # no scoring request (only the look-up of the server's tokenize endpoint)


def test_a_context_length_error_fails_one_example_and_the_run_goes_on(fake, tmp_path, capsys) -> None:
    tops = script(fake)
    long_text = "word " * 900
    rows = ROWS[:4] + [("long", long_text.strip(), "hockey")]
    fake.context_limit = 4000
    # 1 failed of 5 examples is 20%: above the default --max-failed (10%), which a 5-example toy suite must lift
    code, out = harness(tmp_path, "--max-failed", "25%",
                        suite=write_suite(tmp_path / "ctx", rows, metrics=["accuracy", "log_loss"]))
    assert code == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    [model] = results["models"]
    assert model["counts"]["failed"] == 1 and model["counts"]["n"] == 5
    failed = [r for r in rows_of(out) if r["status"] == "failed"]
    assert [r["id"] for r in failed] == ["long"] and "context window" in failed[0]["error"]
    assert model["metrics"]["accuracy"]["value"] == pytest.approx(
        sum(expected_probs(t)[g] > 0.5 for t, g in zip(tops[:4], GOLD[:4])) / 5)


def test_the_api_key_never_reaches_results_predictions_or_the_report(fake, tmp_path, capsys) -> None:
    script(fake)
    # the server echoes the key in an error for one example until the engine gives up on it
    fake.inject(500, error_body(f"upstream rejected key {KEY}", "server_error"), times=None,
                when=lambda body: body.get("messages", [{}])[-1].get("content") == TEXTS[2] + SEP)
    code, out = harness(tmp_path, "--max-attempts", "2", report=True)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    failed = [r for r in rows_of(out) if r["status"] == "failed"]
    assert len(failed) == 1 and "***" in failed[0]["error"]
    files = [out / "results.json", out / "predictions.jsonl", *out.glob("*.html")]
    assert any(f.suffix == ".html" for f in files)
    for f in files:
        assert KEY not in f.read_text(encoding="utf-8"), f
    assert KEY not in captured.out + captured.err
