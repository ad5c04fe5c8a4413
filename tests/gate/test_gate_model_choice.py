"""Which models the gate compares: --candidate / --against over the rules' settings, and a suite's gate: section
on a run made with --only (acceptance finding 2)."""

from __future__ import annotations

import json

import numpy as np
from conftest import gold_labels, predictions

from harness.cli.main import main

N = 300
SECTION = {"candidate": "job/final", "against": "job/base"}  # the suite's own models (a demo job's)


def _right(acc: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(N) < acc


def _models(gold):
    return {"base": predictions(gold, ["neg", "pos"], _right(0.85, 7)),
            "cand": predictions(gold, ["neg", "pos"], _right(0.85, 7))}


def test_command_line_names_override_the_suites_gate_section_on_an_only_run(gate_suite, run_models, tmp_path,
                                                                             capsys):
    gold = gold_labels(N, ("neg", "pos"))
    run = run_models(gate_suite(gold, gate=SECTION), _models(gold), out="only")  # --only, no --gate
    assert json.loads((run / "results.json").read_text())["only"] is True
    assert main(["gate", str(run), "--candidate", "cand", "--against", "base", "--json",
                 str(tmp_path / "v.json")]) == 0, capsys.readouterr().err
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert (verdict["candidate"]["name"], verdict["reference"]["name"]) == ("cand", "base")
    assert not any("left out" in n for n in verdict["notes"])  # overridden, not left out
    # not overridden: left out with a note (as `run --only --gate` does), the gate chooses as without them
    assert main(["gate", str(run), "--json", str(tmp_path / "w.json")]) == 0, capsys.readouterr().err
    verdict = json.loads((tmp_path / "w.json").read_text())
    assert (verdict["candidate"]["name"], verdict["reference"]["name"]) == ("cand", "base")
    notes = " ".join(verdict["notes"])
    assert "gate: candidate: job/final is left out" in notes and "gate: against: job/base is left out" in notes
    # one of them overridden: only the other is left out
    assert main(["gate", str(run), "--against", "base", "--json", str(tmp_path / "x.json")]) == 0
    notes = " ".join(json.loads((tmp_path / "x.json").read_text())["notes"])
    assert "candidate: job/final is left out" in notes and "against: job/base" not in notes


def test_a_missing_gate_model_of_a_full_run_is_still_an_error_naming_the_line_unless_overridden(
        gate_suite, tmp_path, capsys):
    gold = gold_labels(N, ("neg", "pos"))
    specs = {}
    for name, rows in _models(gold).items():
        path = tmp_path / "suite" / f"{name}.jsonl"  # files a suite names are inside its folder
        path.parent.mkdir(exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        specs[name] = f"predictions:{path}"
    suite = gate_suite(gold, models=specs, baseline="base", gate={"candidate": "job/final", "against": "base"})
    run = tmp_path / "full"
    assert main(["run", str(suite), "--out", str(run), "--no-report", "--bootstrap", "200"]) == 0
    capsys.readouterr()
    assert "only" not in json.loads((run / "results.json").read_text())
    assert main(["gate", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {suite / 'suite.yaml'}:") and "gate.candidate: no model named 'job/final'" in err
    assert "\n" not in err
    assert main(["gate", str(run), "--candidate", "cand", "--json", str(tmp_path / "v.json")]) == 0
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert (verdict["candidate"]["name"], verdict["reference"]["name"]) == ("cand", "base")
    # a name given on the command line is checked as ever
    assert main(["gate", str(run), "--candidate", "nope"]) == 2
    assert "--candidate 'nope'" in capsys.readouterr().err
