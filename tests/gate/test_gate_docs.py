"""The gate's documentation cannot drift from the code: the defaults shown are the defaults used, the suite's
gate section is validated with line numbers, and the CLI has the options the docs name."""

from __future__ import annotations

import re
from pathlib import Path

from harness.cli.main import main
from harness.suite.rules import default_rules

ROOT = Path(__file__).resolve().parents[2]
CI = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_documented_defaults_are_the_file_the_gate_reads():
    block = re.search(r"applies `harness/data/gate-defaults.yaml`:\n\n```yaml\n(.*?)```", CI, re.S)
    assert block
    data = (ROOT / "harness" / "data" / "gate-defaults.yaml").read_text(encoding="utf-8")
    body = "".join(line + "\n" for line in data.splitlines() if not line.startswith("#"))
    assert block.group(1) == body
    rules = default_rules().section.rules
    assert [r.kind for r in rules] == ["regression", "regression", "health"]


def test_readme_and_ci_doc_name_real_options(capsys):
    main(["gate", "--help"])
    help_text = capsys.readouterr().out
    row = next(line for line in README.splitlines() if line.startswith("| `harness gate RESULTS"))
    for opt in re.findall(r"`?(--[a-z-]+)", row):
        assert opt in help_text, opt
    main(["run", "--help"])
    assert "--gate" in capsys.readouterr().out
    assert "docs/ci.md" in README and "GitHub Actions" in CI and "GitLab CI" in CI


def test_a_bad_rule_in_a_suite_names_the_suite_line_before_anything_runs(gate_suite, tmp_path, capsys):
    suite = gate_suite(["neg", "pos"] * 10, gate={"rules": [{"kind": "regression", "metric": "accuracy"},
                                                            {"kind": "regression", "metric": "accuracy",
                                                             "max_drop": -0.5}]})
    assert main(["run", str(suite), "--out", str(tmp_path / "x"), "--gate"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"suite\.yaml:\d+: gate\.rules\.1\.max_drop: must not be negative", err), err
    suite = gate_suite(["neg", "pos"] * 10, folder="s2",
                       gate={"rules": [{"kind": "floor", "metric": "nope", "min": 0.5}]},
                       models={"a": "predictions:missing.jsonl"})
    assert main(["run", str(suite), "--out", str(tmp_path / "y"), "--gate"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"suite\.yaml:\d+: gate\.rules\.0\.metric: unknown metric 'nope'", err), err
    assert not (tmp_path / "y").exists()  # nothing ran


def test_one_default_alpha_everywhere():
    """The defaults file, a rules file or gate section that gives no alpha, and the judge's own default agree."""
    from harness.analysis.gate.rules import DEFAULT_ALPHA, GateConfig
    from harness.suite.schema import GateSection

    assert default_rules().section.alpha == GateSection().alpha == GateConfig(()).alpha == DEFAULT_ALPHA
    assert f"alpha: {DEFAULT_ALPHA:g}" in CI and f"alpha {DEFAULT_ALPHA:g}" in README
