"""`harness gate` and `harness run --gate` end to end: every exit code, every output, baselines, bad input."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import gold_labels, predictions
from junitparser import Error, Failure, JUnitXml, Skipped

from harness.cli.main import main

N = 400


def right(n: int, acc: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(n) < acc


@pytest.fixture
def pair_run(gate_suite, run_models):
    """A run with `base` and `cand`; ``make(acc_cand, ...)`` returns the run folder."""

    def make(cand_right: np.ndarray, base_right: np.ndarray | None = None, n: int = N, probs: bool = True,
             skip: tuple[int, ...] = (), suite_fields: dict | None = None, out: str = "run",
             names: tuple[str, str] = ("base", "cand")) -> Path:
        gold = gold_labels(n, ("neg", "pos"))
        suite = gate_suite(gold, positive="pos", **(suite_fields or {}))
        base_right = right(n, 0.85, 7) if base_right is None else base_right
        conf = 0.8 + 0.15 * np.random.default_rng(3).random(n) if probs else None  # the same for both models
        models = {names[0]: predictions(gold, ["neg", "pos"], base_right, conf),
                  names[1]: predictions(gold, ["neg", "pos"], cand_right, conf, skip=skip)}
        return run_models(suite, models, out=out)

    return make


def gate(*args: str) -> int:
    return main(["gate", *map(str, args)])


def same_as_base(n: int = N) -> np.ndarray:
    return right(n, 0.85, 7)


def worse(n: int = N, drop: int = 60) -> np.ndarray:
    r = same_as_base(n).copy()
    r[np.flatnonzero(r)[:drop]] = False
    return r


# --- exit codes and outputs ---------------------------------------------------------------------------


def test_pass_exit_0_with_json_junit_markdown_and_step_summary(pair_run, tmp_path, monkeypatch, capsys):
    run = pair_run(same_as_base())
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code = gate(run, "--candidate", "cand", "--json", tmp_path / "v.json", "--junit", tmp_path / "j.xml",
                "--markdown", tmp_path / "s.md")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "regression: accuracy" in out and "gate passed" in out
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert verdict["format"] == "harness.gate" and verdict["schema_version"] == 1
    assert verdict["status"] == "passed" and verdict["exit_code"] == 0
    assert verdict["candidate"]["name"] == "cand" and verdict["reference"]["name"] == "base"
    assert verdict["paired"] is True
    kinds = [r["kind"] for r in verdict["rules"]]
    assert kinds == ["regression", "regression", "health"]  # the defaults: accuracy, AUROC, health
    acc = verdict["rules"][0]
    assert acc["metric"] == "accuracy" and acc["delta"] == pytest.approx(0.0) and acc["n"] == N
    assert acc["bounds"]["lower"] < 0 < acc["bounds"]["upper"]
    xml = JUnitXml.fromfile(str(tmp_path / "j.xml"))
    cases = [c for suite in xml for c in suite]
    assert len(cases) == 3 and all(c.is_passed or c.is_skipped for c in cases)
    md = (tmp_path / "s.md").read_text()
    assert "gate passed" in md and "| rule |" in md
    assert summary.read_text().startswith("earlier step\n") and md in summary.read_text()


def test_a_real_drop_fails_exit_4(pair_run, tmp_path, capsys):
    run = pair_run(worse())
    code = gate(run, "--candidate", "cand", "--junit", tmp_path / "j.xml", "--json", tmp_path / "v.json")
    out = capsys.readouterr().out
    assert code == 4, out
    verdict = json.loads((tmp_path / "v.json").read_text())
    acc = verdict["rules"][0]
    assert acc["verdict"] == "fail" and acc["blocking"] and acc["delta"] == pytest.approx(-60 / N)
    assert acc["bounds"]["upper"] < 0 and acc["p_adjusted"] <= 0.05
    assert "drop" in acc["reason"]
    failures = [c for s in JUnitXml.fromfile(str(tmp_path / "j.xml")) for c in s
                if any(isinstance(r, Failure) for r in c.result)]
    assert [c.name for c in failures][0] == "regression: accuracy"


def test_inconclusive_passes_with_a_warning_and_strict_fails_it(pair_run, tmp_path, capsys):
    run = pair_run(worse(120, drop=2), base_right=same_as_base(120), n=120)
    assert gate(run, "--candidate", "cand", "--junit", tmp_path / "j.xml", "--json", tmp_path / "v.json") == 0
    verdict = json.loads((tmp_path / "v.json").read_text())
    acc = verdict["rules"][0]
    assert acc["verdict"] == "inconclusive" and not acc["blocking"]
    assert "cannot be ruled out" in acc["reason"] and "examples would detect a drop of 1 point" in acc["reason"]
    assert acc["examples_needed"] > 120
    skipped = [c for s in JUnitXml.fromfile(str(tmp_path / "j.xml")) for c in s
               if any(isinstance(r, Skipped) for r in c.result)]
    assert skipped, "an inconclusive rule shows as skipped (a warning) in CI"
    assert gate(run, "--candidate", "cand", "--strict", "--junit", tmp_path / "j2.xml") == 4
    failed = [c for s in JUnitXml.fromfile(str(tmp_path / "j2.xml")) for c in s
              if any(isinstance(r, Failure) for r in c.result)]
    assert failed and "inconclusive" in capsys.readouterr().out


def test_health_over_its_limit_could_not_judge_exit_3(pair_run, tmp_path):
    run = pair_run(same_as_base(), skip=tuple(range(0, 40, 2)))  # 20 of 400 missing: 5% failed
    assert gate(run, "--candidate", "cand", "--json", tmp_path / "v.json") == 3
    verdict = json.loads((tmp_path / "v.json").read_text())
    health = verdict["rules"][-1]
    assert verdict["status"] == "could_not_judge" and health["verdict"] == "fail"
    assert "5.0% of examples failed (limit 1.0%)" in health["reason"]


def test_a_failed_model_is_not_scored_exit_3(pair_run, tmp_path):
    run = pair_run(same_as_base())
    results = json.loads((run / "results.json").read_text())
    cand = next(m for m in results["models"] if m["name"] == "cand")
    cand["error"] = "the server said 404"
    (run / "results.json").write_text(json.dumps(results))
    assert gate(run, "--candidate", "cand", "--json", tmp_path / "v.json") == 3
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert verdict["rules"][0]["verdict"] == "not_judged" and "404" in verdict["rules"][0]["reason"]
    assert "delta" not in verdict["rules"][0]


@pytest.mark.parametrize("damage", ["missing", "malformed", "predictions", "newer"])
def test_unreadable_results_fail_closed_exit_3_and_still_write_files(pair_run, tmp_path, damage, capsys):
    run = pair_run(same_as_base())
    target = run
    if damage == "missing":
        target = tmp_path / "nowhere" / "results.json"
    elif damage == "malformed":
        (run / "results.json").write_text("{ not json")
    elif damage == "predictions":
        (run / "predictions.jsonl").unlink()
    else:
        results = json.loads((run / "results.json").read_text())
        results["schema_version"] = 99
        (run / "results.json").write_text(json.dumps(results))
    assert gate(target, "--candidate", "cand", "--junit", tmp_path / "j.xml", "--json", tmp_path / "v.json") == 3
    assert "could not judge" in capsys.readouterr().out
    errors = [c for s in JUnitXml.fromfile(str(tmp_path / "j.xml")) for c in s
              if any(isinstance(r, Error) for r in c.result)]
    assert len(errors) == 1
    assert json.loads((tmp_path / "v.json").read_text())["exit_code"] == 3


def test_a_metric_a_rule_needs_not_available_exit_3(pair_run, tmp_path, rules_file):
    run = pair_run(same_as_base())
    rules = rules_file("rules:\n  - {kind: regression, metric: auroc}\n")
    # the candidate gives no probabilities: AUROC is not available for it (never read as 0)
    results = run / "predictions.jsonl"
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    for r in rows:
        if r["model"] == "cand":
            r["probs"] = None
    results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert gate(run, "--candidate", "cand", "--rules", rules, "--json", tmp_path / "v.json") == 3
    rule = json.loads((tmp_path / "v.json").read_text())["rules"][0]
    assert rule["verdict"] == "not_judged" and "auroc is not available for the candidate" in rule["reason"]


def test_optional_rule_is_skipped_when_neither_model_has_the_metric(pair_run, tmp_path):
    run = pair_run(worse(), probs=False)  # no probabilities anywhere: the default AUROC rule does not apply
    assert gate(run, "--candidate", "cand", "--json", tmp_path / "v.json") == 4
    rules = json.loads((tmp_path / "v.json").read_text())["rules"]
    assert [r["verdict"] for r in rules] == ["fail", "skipped", "pass"]


# --- bad usage and bad rules: exit 2, one line naming file, line and field -----------------------------


@pytest.mark.parametrize("text, line, field, words", [
    ("rules:\n  - {kind: regression, metric: accuracy}\n  - kind: regression\n    metric: acurracy\n",
     4, "rules.1.metric", "unknown metric 'acurracy'"),
    ("candidate: nope\n", 1, "candidate", "no model named 'nope'"),
    ("rules:\n  - kind: regression\n    metric: recall\n    class: urgent\n", 4, "rules.0.class",
     "unknown class 'urgent'"),
    ("rules:\n  - kind: regression\n    metric: accuracy\n    max_drop: -0.01\n", 4, "rules.0.max_drop",
     "must not be negative"),
    ("rules:\n  - kind: non_inferiority\n    metric: accuracy\n    margin: -1\n", 4, "rules.0.margin",
     "must not be negative"),
    ("rules:\n  - kind: regresion\n    metric: accuracy\n", 2, "rules.0.kind", "unknown rule kind 'regresion'"),
    ("rules:\n  - metric: accuracy\n", 2, "rules.0.kind", "missing rule kind"),
    ("rules:\n  - kind: floor\n    metric: accuracy\n    min: 0.9\n    on: median\n", 5, "rules.0.on", "Input"),
    ("alpha: 0.05\nrulez: []\n", 2, "rulez", "unknown field"),
    ("candidate: cand\nrules: []\n", 2, "rules", "at least 1 item"),  # no rules at all would pass anything
])
def test_bad_rules_exit_2_naming_file_line_field(pair_run, rules_file, capsys, text, line, field, words):
    run = pair_run(same_as_base())
    rules = rules_file(text)
    assert gate(run, "--candidate", "cand", "--rules", rules) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {rules}:{line}: {field}: "), err
    assert words in err and "\n" not in err and "Traceback" not in err


def test_a_rules_file_without_rules_keeps_the_default_rules(pair_run, rules_file, tmp_path):
    # as a suite's gate: section without rules does: its settings, the documented default rules — never none
    run = pair_run(worse())
    rules = rules_file("candidate: cand\nagainst: base\nalpha: 0.05\n")
    assert gate(run, "--rules", rules, "--json", tmp_path / "v.json") == 4
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert [r["kind"] for r in verdict["rules"]] == ["regression", "regression", "health"]
    assert verdict["rules_source"].startswith("the default rules (settings from rules file")
    assert verdict["rules"][0]["where"].split(":")[0].endswith("gate-defaults.yaml")


def test_a_gate_sections_stored_baseline_is_relative_to_the_suite_even_with_the_default_rules(pair_run, tmp_path):
    stored = pair_run(same_as_base(), out="prod")
    shutil.copytree(stored, tmp_path / "suite" / "baselines" / "prod")
    run = pair_run(worse(), out="today", suite_fields={"gate": {"candidate": "cand", "baseline": "baselines/prod"}})
    assert gate(run, "--json", tmp_path / "v.json") == 4
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert verdict["reference"]["source"] == f"stored baseline {tmp_path / 'suite' / 'baselines' / 'prod'}"


def test_unknown_model_on_the_command_line_exit_2(pair_run, capsys):
    run = pair_run(same_as_base())
    assert gate(run, "--candidate", "nope") == 2
    assert "--candidate 'nope'" in capsys.readouterr().err
    assert gate(run, "--candidate", "cand", "--against", "nope") == 2


def test_several_candidates_need_naming_exit_2(gate_suite, run_models, capsys):
    gold = gold_labels(100, ("neg", "pos"))
    rows = predictions(gold, ["neg", "pos"], right(100, 0.8, 1))
    run = run_models(gate_suite(gold), {"a": rows, "b": rows, "c": rows})
    assert gate(run) == 2
    assert "--candidate" in capsys.readouterr().err


# --- baselines ------------------------------------------------------------------------------------------


def test_stored_baseline_is_paired_on_example_ids(pair_run, tmp_path):
    today = pair_run(worse(), out="today")
    stored = tmp_path / "prod"
    shutil.copytree(today, stored)
    lines = (stored / "predictions.jsonl").read_text().splitlines()
    np.random.default_rng(0).shuffle(lines)  # another order: pairing is by id, not by line
    (stored / "predictions.jsonl").write_text("\n".join(lines) + "\n")
    assert gate(today, "--candidate", "cand", "--against", "base", "--json", tmp_path / "same.json") == 4
    assert gate(today, "--candidate", "cand", "--baseline", stored, "--against", "base",
                "--json", tmp_path / "stored.json") == 4
    same = json.loads((tmp_path / "same.json").read_text())["rules"][0]
    other = json.loads((tmp_path / "stored.json").read_text())
    assert other["reference"]["source"].startswith("stored baseline") and other["paired"] is True
    assert other["rules"][0]["delta"] == pytest.approx(same["delta"])
    assert other["rules"][0]["bounds"] == pytest.approx(same["bounds"])
    # by default the reference is the candidate's namesake in the stored run: cand vs cand is no regression
    assert gate(today, "--candidate", "cand", "--baseline", stored) == 0


def test_a_suites_gate_section_against_is_not_applied_to_a_stored_baseline(pair_run, tmp_path, capsys):
    # the suite's gate: section compares the fine-tune with its base in the same run; gating today's run against
    # a stored run from the command line compares the candidate with its namesake there, unless --against says
    section = {"gate": {"candidate": "cand", "against": "base"}}
    stored = pair_run(same_as_base(), out="prod", suite_fields=section)
    today = pair_run(worse(), out="today", suite_fields=section)
    assert gate(today, "--json", tmp_path / "same-run.json") == 4  # cand vs base of the same run: a real drop
    capsys.readouterr()
    assert gate(today, "--baseline", stored, "--json", tmp_path / "stored.json") == 4
    out = capsys.readouterr().out
    verdict = json.loads((tmp_path / "stored.json").read_text())
    assert verdict["reference"]["name"] == "cand" and verdict["reference"]["source"].startswith("stored baseline")
    assert any("against: base names a model of the same run" in n for n in verdict["notes"]) and "--against" in out
    assert gate(today, "--baseline", stored, "--against", "base", "--json", tmp_path / "base.json") == 4
    chosen = json.loads((tmp_path / "base.json").read_text())
    assert chosen["reference"]["name"] == "base" and not any("names a model of the same run" in n
                                                              for n in chosen["notes"])
    # rules that name the stored baseline themselves mean their against there
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"candidate: cand\nagainst: base\nbaseline: {stored}\n", encoding="utf-8")
    assert gate(today, "--rules", rules, "--json", tmp_path / "rules.json") == 4
    assert json.loads((tmp_path / "rules.json").read_text())["reference"]["name"] == "base"


def test_stored_baseline_on_other_data_exit_2(pair_run, gate_suite, run_models, tmp_path, capsys):
    today = pair_run(same_as_base())
    gold = gold_labels(N, ("neg", "pos"), seed=5)
    other = run_models(gate_suite(gold, folder="other"), {
        "base": predictions(gold, ["neg", "pos"], right(N, 0.85, 7))}, out="other-run")
    assert gate(today, "--candidate", "cand", "--baseline", other, "--against", "base") == 2
    err = capsys.readouterr().err
    assert "the datasets differ" in err and "sha256" in err


def test_stored_baseline_without_predictions_is_unpaired_and_says_so_everywhere(pair_run, tmp_path, capsys):
    today = pair_run(worse(drop=50), out="today")
    stored = tmp_path / "prod"
    stored.mkdir()
    shutil.copy(today / "results.json", stored / "results.json")  # results only, no predictions.jsonl
    code = gate(today, "--candidate", "cand", "--baseline", stored, "--against", "base",
                "--json", tmp_path / "v.json", "--junit", tmp_path / "j.xml", "--markdown", tmp_path / "s.md")
    out = capsys.readouterr().out
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert code in (0, 4) and verdict["paired"] is False
    assert any("UNPAIRED" in n for n in verdict["notes"]) and "UNPAIRED" in out
    assert "UNPAIRED" in (tmp_path / "s.md").read_text() and "UNPAIRED" in (tmp_path / "j.xml").read_text()
    acc = verdict["rules"][0]
    assert acc["method"] == "unpaired normal approximation" and acc["paired"] is False
    paired = json.loads(json.dumps(verdict))  # the same comparison, paired, is narrower
    assert gate(today, "--candidate", "cand", "--against", "base", "--json", tmp_path / "p.json") == 4
    paired = json.loads((tmp_path / "p.json").read_text())["rules"][0]
    assert acc["delta"] == pytest.approx(paired["delta"])
    assert acc["bounds"]["upper"] - acc["bounds"]["lower"] > paired["bounds"]["upper"] - paired["bounds"]["lower"]


# --- run --gate -----------------------------------------------------------------------------------------


def test_run_with_gate_takes_the_gates_exit_code(gate_suite, run_models, tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    gold = gold_labels(N, ("neg", "pos"))
    suite = gate_suite(gold, gate={"candidate": "cand", "against": "base",
                                   "rules": [{"kind": "regression", "metric": "accuracy", "max_drop": 0.02}]})
    base = predictions(gold, ["neg", "pos"], same_as_base())
    good = run_models(suite, {"base": base, "cand": base}, out="good", extra=["--gate"])
    verdict = json.loads((good / "gate.json").read_text())
    assert verdict["status"] == "passed" and verdict["rules"][0]["margin"] == 0.02
    assert (good / "gate.md").is_file() and JUnitXml.fromfile(str(good / "gate.junit.xml"))
    bad = run_models(suite, {"base": base, "cand": predictions(gold, ["neg", "pos"], worse())}, out="bad",
                     extra=["--gate"], expect=4)
    assert json.loads((bad / "gate.json").read_text())["rules"][0]["verdict"] == "fail"
    assert (bad / "results.json").is_file()  # nothing computed is lost


def test_run_gate_checks_the_suites_gate_models_before_scoring(gate_suite, run_models, tmp_path, capsys):
    gold = gold_labels(N, ("neg", "pos"))
    base = predictions(gold, ["neg", "pos"], same_as_base())
    section = {"candidate": "job/final", "against": "job/base"}  # the suite's own models, e.g. a demo job
    suite = gate_suite(gold, gate=section)
    # --only runs just the --model models: the section's names are left out (as comparisons: are), with a note
    run = run_models(suite, {"base": base, "cand": predictions(gold, ["neg", "pos"], worse())}, out="only",
                     extra=["--gate"], expect=4)
    verdict = json.loads((run / "gate.json").read_text())
    assert (verdict["candidate"]["name"], verdict["reference"]["name"]) == ("cand", "base")
    assert any("gate: candidate: job/final is left out" in n for n in verdict["notes"])
    assert "left out" in (run / "gate.md").read_text()
    # without --only, a name the run does not have is bad input, found before anything is scored
    rows = tmp_path / "named" / "base.jsonl"  # a file a suite names is inside its folder
    rows.parent.mkdir()
    rows.write_text("".join(json.dumps(r) + "\n" for r in base), encoding="utf-8")
    suite = gate_suite(gold, folder="named", gate=section, models={"base": f"predictions:{rows}"})
    capsys.readouterr()
    out = tmp_path / "named-run"
    assert main(["run", str(suite), "--out", str(out), "--gate", "--no-report"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {suite / 'suite.yaml'}:") and "gate.candidate: no model named 'job/final'" in err
    assert "\n" not in err and not out.exists()


def test_hostile_names_stay_text_in_junit_and_markdown(pair_run, tmp_path):
    name = 'x<script>alert(1)</script>&[a](http://e.invalid)\x07 @team |'
    run = pair_run(same_as_base(), names=("base", name))
    assert gate(run, "--candidate", name, "--junit", tmp_path / "j.xml", "--markdown", tmp_path / "s.md") == 0
    xml = JUnitXml.fromfile(str(tmp_path / "j.xml"))
    assert name.replace("\x07", "") in [s.name for s in xml][0]
    md = (tmp_path / "s.md").read_text()
    assert "\\<script\\>" in md and not re.search(r"(?<!\\)[<>]", md.split("<sub>")[0])
    assert not re.search(r"(?<!\\)\]\(", md) and " @team" not in md and "\x07" not in md


def test_every_rule_kind_from_a_rules_file(pair_run, rules_file, tmp_path):
    run = pair_run(same_as_base())
    rules = rules_file("""candidate: cand
against: base
alpha: 0.1
rules:
  - {kind: regression, metric: accuracy, max_drop: 0.01, detect: 0.02}
  - {kind: non_inferiority, metric: auroc, margin: 0.05}
  - {kind: superiority, metric: accuracy}
  - {kind: floor, metric: accuracy, min: 0.5, on: bound}
  - {kind: ceiling, metric: log_loss, max: 10}
  - {kind: regression, metric: recall, class: neg}
  - {kind: health, max_failed: 0.0, max_invalid: 0.0}
""")
    assert gate(run, "--rules", rules, "--json", tmp_path / "v.json") == 4  # superiority of equal models fails
    verdict = json.loads((tmp_path / "v.json").read_text())
    got = [(r["kind"], r["verdict"]) for r in verdict["rules"]]
    assert got == [("regression", "pass"), ("non_inferiority", "pass"), ("superiority", "fail"),
                   ("floor", "pass"), ("ceiling", "pass"), ("regression", "pass"), ("health", "pass")]
    first = verdict["rules"][0]
    assert first["margin"] == 0.01 and first["detect"] == 0.02 and first["where"] == f"{rules}:5"
    assert first["bounds"]["confidence"] == pytest.approx(0.9) and verdict["alpha"] == 0.1
    assert verdict["rules"][5]["class"] == "neg" and verdict["rules"][3]["on"] == "bound"
    assert verdict["family"]["size"] == 4  # two regressions, non-inferiority, the floor on its bound


def test_optional_rule_is_skipped_when_the_reference_lacks_the_metric_not_when_the_candidate_does(pair_run,
                                                                                                  tmp_path):
    """The default AUROC rule against a reference without probabilities (e.g. a committed baseline scored
    without them) has nothing to regress from: skipped, the gate judges accuracy. A candidate that lost the
    probabilities the reference had is not judged (fails closed)."""
    run = pair_run(same_as_base())
    rows_file = run / "predictions.jsonl"
    rows = [json.loads(line) for line in rows_file.read_text().splitlines()]
    for r in rows:
        if r["model"] == "base":
            r["probs"] = None
    rows_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert gate(run, "--candidate", "cand", "--json", tmp_path / "v.json") == 0
    rules = json.loads((tmp_path / "v.json").read_text())["rules"]
    assert [r["verdict"] for r in rules] == ["pass", "skipped", "pass"]
    assert "not available for the reference 'base'" in rules[1]["reason"]
    assert gate(run, "--candidate", "base", "--against", "cand", "--json", tmp_path / "w.json") == 3
    rules = json.loads((tmp_path / "w.json").read_text())["rules"]
    assert rules[1]["verdict"] == "not_judged" and "not available for the candidate" in rules[1]["reason"]
