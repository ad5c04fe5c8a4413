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


# --- results.json's keys: what the docs name is what a run writes -------------------------------------------------

def _documented_top_level() -> set[str]:
    text = (ROOT / "docs" / "results-format.md").read_text(encoding="utf-8")
    table = text.split("## Top level", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))
    added = text.split("### Added in version 2, optional", 1)[1].split("\n## ", 1)[0]
    return names | set(re.findall(r"`([a-z_]+)` \(", added))


@pytest.fixture(scope="module")
def demo_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    import json

    from harness.analysis.compare import CompareOptions
    from harness.plugins import load_registry
    from harness.runner import RunOptions, run

    out = tmp_path_factory.mktemp("demo")
    outcome = run(load_suite("baseball-hockey"), load_registry(entry_points=False),
                  RunOptions(out_dir=out, stats=CompareOptions(n_resamples=50)))
    return json.loads(outcome.results_path.read_text(encoding="utf-8"))


def test_every_top_level_key_a_run_writes_is_documented(demo_results):
    documented = _documented_top_level()
    assert {"format", "models", "data_checks", "verdict", "validation"} <= documented
    assert not set(demo_results) - documented, "results.json keys missing from docs/results-format.md"


def test_the_docs_name_the_key_the_data_checks_are_recorded_under(demo_results):
    key = next(k for k, v in demo_results.items() if isinstance(v, dict) and "findings" in v)
    assert key == "data_checks"
    readme = README.split("## Validating data before a run", 1)[1].split("\n## ", 1)[0]
    report = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    named = re.findall(r"warnings\*\* are printed, recorded in results\.json \(`([a-z_]+)`\)", readme)
    named += re.findall(r"data checks' errors and warnings \(results\.json `([a-z_]+)`", report)
    assert named == [key, key]
