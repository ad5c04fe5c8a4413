"""Open the demo report in a real headless browser (skipped where no chromium is installed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]


def _chromium() -> str | None:
    for c in CANDIDATES:
        if Path(c).exists():
            return c
    return shutil.which("chromium")


@pytest.mark.browser
@pytest.mark.parametrize("demo_name", ["binary_demo", "multiclass_demo"])
def test_report_renders_in_headless_chromium(demo_name, request, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium installed")
    demo = request.getfixturevalue(demo_name)
    page = tmp_path / "report.html"
    page.write_text(demo.html, encoding="utf-8")
    shot = tmp_path / "report.png"
    proc = subprocess.run([browser, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                           "--window-size=1400,3000", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a blank page compresses to a few kB
    dom = subprocess.run([browser, *FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom",
                          page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0
    assert 'data-chart="roc"' in dom.stdout or demo_name == "multiclass_demo"
    assert "<svg" in dom.stdout and "<script" not in dom.stdout
