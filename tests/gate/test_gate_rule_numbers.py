"""Every number of a rules file is a finite number in its range: NaN or infinity is exit 2 naming the file, line and
field, never a gate that passes, fails or crashes on it (acceptance finding 6)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import gold_labels, predictions

from harness.cli.main import main

N = 200


@pytest.fixture
def run(gate_suite, run_models):
    gold = gold_labels(N, ("neg", "pos"))
    right = np.random.default_rng(7).random(N) < 0.85
    conf = np.full(N, 0.8)
    rows = predictions(gold, ["neg", "pos"], right, conf)
    return run_models(gate_suite(gold, positive="pos"), {"base": rows, "cand": rows})


RULES = {  # field -> a rule (written at lines 2-4) with that field last
    "max_drop": "rules:\n  - kind: regression\n    metric: accuracy\n    max_drop: {v}\n",
    "detect": "rules:\n  - kind: regression\n    metric: log_loss\n    detect: {v}\n",
    "margin": "rules:\n  - kind: non_inferiority\n    metric: accuracy\n    margin: {v}\n",
    "min": "rules:\n  - kind: floor\n    metric: accuracy\n    min: {v}\n",
    "max": "rules:\n  - kind: ceiling\n    metric: log_loss\n    max: {v}\n",
    "max_failed": "rules:\n  - kind: health\n    max_invalid: 0.1\n    max_failed: {v}\n",
}


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf", "1e400", "'nan'"])
@pytest.mark.parametrize("field", [*RULES, "superiority margin", "alpha"])
def test_nan_and_infinity_are_refused_naming_file_line_field(run, rules_file, capsys, field, value):
    if field == "alpha":
        text, line, where = f"alpha: {value}\n", 1, "alpha"
    elif field == "superiority margin":
        text = f"rules:\n  - kind: superiority\n    metric: accuracy\n    margin: {value}\n"
        line, where = 4, "rules.0.margin"
    else:
        text, line, where = RULES[field].format(v=value), 4, f"rules.0.{field}"
    rules = rules_file(text)
    assert main(["gate", str(run), "--candidate", "cand", "--against", "base", "--rules", str(rules)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {rules}:{line}: {where}: "), err
    assert "finite number" in err and "\n" not in err and "Traceback" not in err


def test_a_suites_gate_section_with_nan_is_refused_before_anything_is_scored(gate_suite, run_models, tmp_path,
                                                                               capsys):
    gold = gold_labels(N, ("neg", "pos"))
    rows = predictions(gold, ["neg", "pos"], np.ones(N, dtype=bool))
    suite = gate_suite(gold, gate={"rules": [{"kind": "regression", "metric": "accuracy", "max_drop": float("nan")}]})
    run_models(suite, {"base": rows, "cand": rows}, out="nan", extra=["--gate"], expect=2)
    assert not (tmp_path / "nan").exists()
    suite = gate_suite(gold, folder="inf", gate={"alpha": float("inf")})
    capsys.readouterr()
    assert main(["run", str(suite), "--only", "--model", "x=demo", "--out", str(tmp_path / "inf")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {suite / 'suite.yaml'}:") and "gate.alpha: must be a finite number" in err


@pytest.mark.parametrize("text, field, words", [
    ("rules:\n  - kind: floor\n    metric: accuracy\n    min: 90\n", "min", "a limit of 90"),
    ("rules:\n  - kind: ceiling\n    metric: recall\n    max: -0.5\n", "max", "a limit of -0.5"),
    ("rules:\n  - kind: regression\n    metric: auroc\n    max_drop: 2\n", "max_drop", "a drop of 2"),
    ("rules:\n  - kind: non_inferiority\n    metric: f1_macro\n    margin: 1.5\n", "margin", "a margin of 1.5"),
])
def test_limits_and_margins_on_a_share_lie_in_0_1(run, rules_file, capsys, text, field, words):
    rules = rules_file(text)
    assert main(["gate", str(run), "--candidate", "cand", "--against", "base", "--rules", str(rules)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {rules}:4: rules.0.{field}: ") and words in err and "share in [0, 1]" in err


def test_a_limit_above_one_on_a_metric_that_is_not_a_share_is_allowed(run, rules_file):
    rules = rules_file("rules:\n  - kind: ceiling\n    metric: log_loss\n    max: 3\n")
    assert main(["gate", str(run), "--candidate", "cand", "--against", "base", "--rules", str(rules)]) == 0
