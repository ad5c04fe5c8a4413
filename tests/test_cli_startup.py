"""The CLI starts fast: heavy libraries load when a command needs them, not when harness is imported."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("scipy.stats", "scipy.special", "scipy.sparse", "sklearn", "pandas", "matplotlib", "openai")


def loaded_after(code: str, modules: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after running ``code``."""
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json\n"
                          f"print(json.dumps([m for m in {modules!r} if m in sys.modules]))"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


CLI = "from harness.cli.main import app\nfrom typer.testing import CliRunner\n"


def test_importing_the_cli_loads_no_heavy_library() -> None:
    # `harness --help`, `harness cache info`, a suite that fails validation: ~0.5 s instead of ~2 s
    assert loaded_after("import harness.cli.main") == []


def test_loading_the_plugins_loads_no_heavy_library() -> None:
    # `harness plugins` lists every metric and provider without importing scikit-learn, scipy or the SDK
    assert loaded_after("from harness.plugins import load_registry\nload_registry(entry_points=False)") == []


def test_help_loads_neither_numpy_nor_the_runner() -> None:
    # `harness --help` (and every command's --help): each command imports what it runs when it runs (~0.25 s
    # less start-up); the runner, the data checks, the statistics and numpy load with `harness run`
    code = (CLI + "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0, r.output\n"
            "for cmd in ('run', 'validate', 'plan', 'gate', 'demo'):\n"
            "    assert CliRunner().invoke(app, [cmd, '--help']).exit_code == 0\n")
    assert loaded_after(code, ("numpy", "harness.runner", "harness.validation", "harness.stats",
                               "harness.analysis", "jinja2")) == []


def test_the_run_commands_default_failure_limit_is_the_runners() -> None:
    from harness.cli import run_cmd
    from harness.runner.setup import DEFAULT_MAX_FAILED

    assert run_cmd.DEFAULT_MAX_FAILED == DEFAULT_MAX_FAILED


def test_a_plain_run_loads_neither_the_gate_nor_jinja2_nor_unused_providers(tmp_path) -> None:
    # a run without --gate, without a prompt template and with --no-report skips what it does not use: the
    # gate's modules, jinja2, the embeddings baselines' models (each ~10-20 ms of every start, more where
    # bytecode is not cached)
    import sameresults

    suite = sameresults.write_suite(tmp_path / "suite", "multiclass")
    code = (CLI + f"r = CliRunner().invoke(app, ['run', {str(suite)!r}, '--out', {str(tmp_path / 'out')!r}, "
            "'--no-report', '--no-cache', '--progress', 'off', '--quiet'])\nassert r.exit_code == 0, r.output\n")
    assert loaded_after(code, ("jinja2", "harness.analysis.gate", "harness.runner.gate", "harness.output.gate_formats",
                               "harness_plugins.providers.embeddings.remote",
                               "harness_plugins.providers.embeddings.lsa")) == []
    assert (tmp_path / "out" / "results.json").is_file()
