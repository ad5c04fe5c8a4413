"""Shareable outputs never show the folder harness is installed in (acceptance finding 14): a bundled suite is
`baseball-hockey/suite.yaml`, the default rules `harness/data/gate-defaults.yaml`, a file under the current
folder relative to it — in report notices, gate.md, gate.junit.xml and gate.json. Terminal errors keep full paths."""

from __future__ import annotations

import json
from pathlib import Path

import harness
from harness.cli.main import main
from harness.suite import bundled_suites_dir
from harness.suite.paths import shown_path

INSTALL = {str(bundled_suites_dir()), str(bundled_suites_dir().resolve()), str(Path(harness.__file__).parent),
           str(Path(harness.__file__).resolve().parent)}


def test_a_bundled_suites_run_and_gate_name_no_install_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # not the repository: the bundled suite is found in the installed package
    out = tmp_path / "run"
    code = main(["run", "baseball-hockey", "--only", "--model", "base=demo", "--model", "ft=demo", "--out", str(out),
                 "--gate", "--bootstrap", "200"])
    assert code in (0, 4), capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    notices = results["engine"]["notices"]
    assert any("(baseball-hockey/suite.yaml:" in n for n in notices), notices  # comparisons left out, with the line
    verdict = json.loads((out / "gate.json").read_text())
    assert verdict["rules_source"].endswith("gate: section of baseball-hockey/suite.yaml)")
    assert {r["where"].split(":")[0] for r in verdict["rules"]} == {"harness/data/gate-defaults.yaml"}
    for name in ("gate.json", "gate.md", "gate.junit.xml", "report.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert not any(folder in text for folder in INSTALL), name
    assert not any(folder in n for n in notices for folder in INSTALL)
    # and `harness gate` on the stored run says the same
    assert main(["gate", str(out), "--json", str(tmp_path / "again.json"), "--markdown", str(tmp_path / "a.md")]) \
        == code
    for name in ("again.json", "a.md"):
        assert not any(folder in (tmp_path / name).read_text(encoding="utf-8") for folder in INSTALL)


def test_shown_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suites" / "mine").mkdir(parents=True)
    assert shown_path(tmp_path / "suites" / "mine" / "suite.yaml") == "suites/mine/suite.yaml"
    assert shown_path(bundled_suites_dir() / "baseball-hockey" / "suite.yaml") == "baseball-hockey/suite.yaml"
    assert shown_path(Path(harness.__file__).parent / "data" / "gate-defaults.yaml") == \
        "harness/data/gate-defaults.yaml"
    assert shown_path("rel/suite.yaml") == "rel/suite.yaml"  # as the user gave it
    elsewhere = Path("/nonexistent-elsewhere/suite.yaml")
    assert shown_path(elsewhere) == str(elsewhere)
