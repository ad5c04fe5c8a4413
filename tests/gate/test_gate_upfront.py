"""`harness run --gate` checks everything the gate can check without results before any example is sent: the
rules, the candidate and reference (job specs expanded into their checkpoints first), a stored baseline."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml
from conftest import gold_labels, predictions

from harness.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def _demo_suite(tmp_path: Path, gate: dict) -> Path:
    folder = tmp_path / "bh"
    shutil.copytree(ROOT / "suites" / "baseball-hockey", folder)
    doc = yaml.safe_load((folder / "suite.yaml").read_text(encoding="utf-8"))
    doc["gate"] = gate
    (folder / "suite.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return folder


def test_a_checkpoint_name_the_job_does_not_have_is_an_error_before_scoring(tmp_path, capsys):
    """`job` expands into job/base, job/ckpt-step-N, job/final: a gate naming `job/fnal` stops the run before
    any example is scored, with the suite's line and field, instead of after the whole run."""
    suite = _demo_suite(tmp_path, {"candidate": "job/fnal", "against": "job/base"})
    out = tmp_path / "out"
    assert main(["run", str(suite), "--out", str(out), "--no-report", "--progress", "off", "--gate"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"suite\.yaml:\d+: gate\.candidate: no model named 'job/fnal'", err), err
    assert "job/final" in err  # the expanded names are listed
    assert not out.exists()  # nothing was scored or written
    # a dry run checks the same, so CI can validate its gate configuration for free
    assert main(["run", str(suite), "--out", str(out), "--dry-run", "--gate"]) == 2
    assert "gate.candidate: no model named 'job/fnal'" in capsys.readouterr().err


def _run(gate_suite, tmp_path, gate: dict, folder: str = "suite", n: int = 60) -> tuple[int, Path]:
    gold = gold_labels(n, ("neg", "pos"))
    suite = gate_suite(gold, folder=folder, gate=gate)
    rows = predictions(gold, ["neg", "pos"], [True] * n)
    file = tmp_path / f"{folder}-preds.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / f"{folder}-out"
    code = main(["run", str(suite), "--only", "--out", str(out), "--no-report", "--bootstrap", "100", "--gate",
                 "--model", f"base=predictions:{file}", "--model", f"cand=predictions:{file}"])
    return code, out


def test_an_unreadable_stored_baseline_is_an_error_before_scoring(gate_suite, tmp_path, capsys):
    code, out = _run(gate_suite, tmp_path, {"baseline": "nowhere/results.json"})
    assert code == 2 and not out.exists()
    assert re.search(r"suite\.yaml:\d+: gate\.baseline: the stored baseline cannot be read",
                     capsys.readouterr().err)


def test_a_stored_baseline_on_other_data_is_an_error_before_scoring(gate_suite, tmp_path, capsys):
    code, stored = _run(gate_suite, tmp_path, {"candidate": "cand", "against": "base"}, folder="old", n=50)
    assert code == 0 and (stored / "results.json").is_file()
    code, out = _run(gate_suite, tmp_path, {"baseline": str(stored), "candidate": "cand"}, folder="new")
    assert code == 2 and not out.exists()
    assert "the datasets differ" in capsys.readouterr().err


def test_a_reference_the_stored_baseline_lacks_is_an_error_before_scoring(gate_suite, tmp_path, capsys):
    code, stored = _run(gate_suite, tmp_path, {"candidate": "cand", "against": "base"}, folder="s")
    assert code == 0
    suite_yaml = tmp_path / "s" / "suite.yaml"
    doc = yaml.safe_load(suite_yaml.read_text(encoding="utf-8"))
    doc["gate"] = {"baseline": str(stored), "candidate": "cand", "against": "prod"}
    suite_yaml.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    rows = tmp_path / "s-preds.jsonl"
    out = tmp_path / "again"
    code = main(["run", str(tmp_path / "s"), "--only", "--out", str(out), "--no-report", "--gate",
                 "--model", f"base=predictions:{rows}", "--model", f"cand=predictions:{rows}"])
    assert code == 2 and not out.exists()
    assert re.search(r"gate\.against: no model named 'prod' in the stored baseline", capsys.readouterr().err)


def test_an_ambiguous_candidate_is_an_error_before_scoring(gate_suite, tmp_path, capsys):
    gold = gold_labels(40, ("neg", "pos"))
    suite = gate_suite(gold, gate={"against": "base"})
    file = tmp_path / "p.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in predictions(gold, ["neg", "pos"], [True] * 40)),
                    encoding="utf-8")
    out = tmp_path / "o"
    code = main(["run", str(suite), "--only", "--out", str(out), "--no-report", "--gate"]
                + [arg for m in ("base", "a", "b") for arg in ("--model", f"{m}=predictions:{file}")])
    assert code == 2 and not out.exists()
    assert "which model is the candidate?" in capsys.readouterr().err


def test_a_gate_section_without_rules_keeps_its_own_file_for_paths_and_errors(gate_suite, tmp_path, capsys):
    """A suite's `gate:` section with settings but no rules takes the default rules: its relative `baseline`
    is relative to the suite (not to the bundled defaults file), and a mistake in its settings names the
    suite's file and line."""
    code, stored = _run(gate_suite, tmp_path, {"candidate": "cand", "against": "base"}, folder="s")
    assert code == 0
    suite_yaml = tmp_path / "s" / "suite.yaml"
    doc = yaml.safe_load(suite_yaml.read_text(encoding="utf-8"))
    doc["gate"] = {"baseline": "../s-out", "candidate": "cand", "against": "base"}  # relative to the suite
    suite_yaml.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    assert main(["gate", str(stored), "--json", str(tmp_path / "v.json")]) == 0
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert verdict["reference"]["source"].startswith("stored baseline")
    assert verdict["rules_source"].startswith("the default rules (settings from the gate: section")
    assert all(r["where"] is None or "gate-defaults.yaml" in r["where"] for r in verdict["rules"])
    doc["gate"]["against"] = "nobody"
    suite_yaml.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    assert main(["gate", str(stored)]) == 2
    assert re.search(r"s/suite\.yaml:\d+: gate\.against: no model named 'nobody'", capsys.readouterr().err)
