"""The README cannot drift from the code: its suite example loads, every hook and CLI option it names exists."""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path

import pytest

from harness import hookspecs
from harness.cli.main import main
from harness.suite import bundled_suites_dir, load_suite

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_complete_suite_example_loads(tmp_path):
    block = re.search(r"A complete example with every field:\n\n```yaml\n(.*?)```", README, re.S)
    assert block, "the README lost its complete suite example"
    (tmp_path / "suite.yaml").write_text(block.group(1), encoding="utf-8")
    for name in ("heldout.jsonl", "train.jsonl"):
        shutil.copy(bundled_suites_dir() / "baseball-hockey" / name, tmp_path / name)
    suite = load_suite(tmp_path)
    assert suite.labels == ("baseball", "hockey") and suite.positive == "hockey"
    assert {m.name for m in suite.models} == {"base", "finetuned", "job", "other"}
    assert suite.comparisons == [("job/final", "job/ckpt-step-22")]
    assert suite.prompt.template and suite.metric_options["beta"] == 1.0


def test_every_hook_is_documented():
    hooks = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if hasattr(fn, "harness_spec")]
    assert hooks, "no hook specs found"
    for name in hooks:
        assert name in README, f"hook {name} is not documented in the README"


def test_every_run_option_the_readme_names_exists(capsys):
    main(["run", "--help"])
    help_text = capsys.readouterr().out
    row = next(line for line in README.splitlines() if line.startswith("| &nbsp;&nbsp;requests at scale"))
    named = set(re.findall(r"`(--[a-z-]+)", row))
    named |= set(re.findall(r"`(--[a-z-]+)", next(line for line in README.splitlines()
                                                  if line.startswith("| &nbsp;&nbsp;statistics"))))
    assert len(named) > 15
    missing = sorted(opt for opt in named if opt not in help_text)
    assert not missing, f"README names options that `harness run` does not have: {missing}"


@pytest.mark.parametrize("doc", ["results-format.md", "openai.md", "runner.md", "report.md", "hf.md"])
def test_linked_docs_exist(doc):
    assert f"docs/{doc}" in README
    assert (ROOT / "docs" / doc).is_file()
