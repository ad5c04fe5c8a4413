"""The CLI starts fast: heavy libraries load when a command needs them, not when harness is imported."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("scipy.stats", "scipy.special", "scipy.sparse", "sklearn", "pandas", "matplotlib", "openai")


def loaded_after(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json\n"
                          f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_library() -> None:
    # `harness --help`, `harness cache info`, a suite that fails validation: ~0.5 s instead of ~2 s
    assert loaded_after("import harness.cli.main") == []


def test_loading_the_plugins_loads_no_heavy_library() -> None:
    # `harness plugins` lists every metric and provider without importing scikit-learn, scipy or the SDK
    assert loaded_after("from harness.plugins import load_registry\nload_registry(entry_points=False)") == []
