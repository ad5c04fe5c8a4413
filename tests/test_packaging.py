"""What is shipped (issue 10, item 16): the sdist carries what the README links to (docs/, LICENSE, tests,
benchmarks), the license is MIT as pyproject.toml says, and the wheel ships ``py.typed`` for the plugin API.

Built offline with the installed setuptools (``build_meta``, no isolated environment, nothing downloaded), from
a copy of the source tree so the checkout is left untouched."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
_SKIP = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", "build", "dist", "*.egg-info",
                               "harness-runs", "harness-demo", ".pytest_cache", ".ruff_cache", ".mypy_cache")

BUILD = """
import sys
from setuptools import build_meta
kind, out = sys.argv[1], sys.argv[2]
print((build_meta.build_sdist if kind == "sdist" else build_meta.build_wheel)(out))
"""


def _build(kind: str, src: Path, out: Path) -> Path:
    proc = subprocess.run([sys.executable, "-c", BUILD, kind, str(out)], cwd=src, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out / proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    pytest.importorskip("setuptools", minversion="77")
    src = tmp_path_factory.mktemp("src") / "harness"
    shutil.copytree(ROOT, src, ignore=_SKIP)
    out = tmp_path_factory.mktemp("dist")
    path = _build("sdist", src, out)
    with tarfile.open(path) as tar:
        names = [n.split("/", 1)[1] for n in tar.getnames() if "/" in n]
    return path, names


def test_the_sdist_has_what_the_readme_links_to(sdist) -> None:
    _, names = sdist
    linked = set(re.findall(r"\]\(((?!https?:|#)[^)#]+)", README))  # [text](relative/path)
    mentioned = {m for m in re.findall(r"`((?:tests|benchmarks|docs)/[\w./-]+\.(?:py|md))`", README)}
    assert linked >= {"docs/openai.md", "docs/runner.md", "docs/results-format.md"}
    for path in sorted(linked | mentioned | {"LICENSE", "README.md"}):
        assert path in names, f"the sdist lacks {path}, which the README links to or names"
    assert any(n.startswith("tests/example_plugin/") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_the_license_is_mit_and_shipped(sdist) -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text
    path, _ = sdist
    with tarfile.open(path) as tar:
        pkg_info = tar.extractfile(next(m for m in tar.getmembers() if m.name.endswith("/PKG-INFO")))
        assert pkg_info is not None
        meta = pkg_info.read().decode("utf-8")
    assert re.search(r"^License-Expression: MIT$", meta, re.M), meta[:2000]
    assert re.search(r"^License-File: LICENSE$", meta, re.M)


def test_the_wheel_ships_py_typed_and_the_license(sdist, tmp_path: Path) -> None:
    path, _ = sdist
    with tarfile.open(path) as tar:
        tar.extractall(tmp_path, filter="data")
    [src] = [p for p in tmp_path.iterdir() if p.is_dir()]
    wheel = _build("wheel", src, tmp_path / "wheel")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "harness/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    assert "harness/__main__.py" in names
