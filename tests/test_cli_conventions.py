"""The command-line conventions people expect (issue 10, item 16): ``--version``, ``python -m harness``, shell
completion, help text that renders, exit 1 only for bugs (declining ``cache clear``, a report template typo),
output files with normal permissions, the cache in the platform's cache folder."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest
import typer
from harness_testkit import HARNESS_SCRIPT

import harness
from harness.cli.main import app
from harness.engine.cache import CACHE_DIR_ENV, default_cache_path

WIDE = {"COLUMNS": "400", "TERM": "dumb"}


def _script(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(HARNESS_SCRIPT), *args], capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={**os.environ, **(env or {})}, input=stdin if stdin is not None else "")


def test_version(harness_cli) -> None:
    res = harness_cli("--version")
    assert res.code == 0 and res.out.strip() == f"harness {harness.__version__}"
    proc = subprocess.run([sys.executable, "-m", "harness", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"harness {harness.__version__}"


def test_python_dash_m_harness_is_the_cli(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "harness", "run", str(tmp_path / "nowhere")], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_shell_completion() -> None:
    words = _script(env={"_HARNESS_COMPLETE": "complete_bash", "COMP_WORDS": "harness ru", "COMP_CWORD": "1"})
    assert words.returncode == 0 and words.stdout.split() == ["run"]
    opts = _script(env={"_HARNESS_COMPLETE": "complete_bash", "COMP_WORDS": "harness run --max-f",
                        "COMP_CWORD": "2"})
    assert opts.stdout.split() == ["--max-failed"]
    script = _script("--show-completion", "bash")
    assert script.returncode == 0 and "_harness_completion" in script.stdout


def _commands() -> list[list[str]]:
    root = typer.main.get_command(app)
    out = []
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        subs = getattr(cmd, "commands", None)
        out.extend([[name, sub] for sub in subs] if subs else [[name]])
    return out


def _flat(text: str) -> str:
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_help_text_renders_whole(command: list[str], harness_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every option's help is shown as written: ``[default: beside results.json]`` was eaten as rich markup."""
    for name, value in WIDE.items():
        monkeypatch.setenv(name, value)
    res = harness_cli(*command, "--help")
    assert res.code == 0, res.err
    shown = _flat(res.out)
    cmd = typer.main.get_command(app)
    for part in command:
        cmd = cmd.commands[part]  # type: ignore[attr-defined]
    for param in cmd.params:
        help_text = getattr(param, "help", None)
        if help_text:
            assert _flat(help_text) in shown, f"{' '.join(command)}: {param.name}: {help_text!r} not shown"


def test_declining_cache_clear_is_not_an_error(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    cache.write_bytes(b"")
    declined = _script("cache", "clear", "--cache", str(cache), stdin="n\n")
    assert declined.returncode == 0, declined.stderr
    assert "nothing was deleted" in declined.stderr and cache.exists()
    assert declined.stdout.strip() == ""  # the question goes to stderr
    unanswered = _script("cache", "clear", "--cache", str(cache), stdin="")
    assert unanswered.returncode == 2
    assert unanswered.stderr.strip().splitlines()[-1].startswith("error: ") and "--yes" in unanswered.stderr


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-run") / "out"
    proc = _script("run", "baseball-hockey", "--model", "a=demo:base", "--only", "--out", str(out),
                   "--bootstrap", "50")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("template, where, what", [
    ("{% if x %}never closed", ":1", "Unexpected end of template"),
    ("fine\n{{ no_such_variable.attr }}", ":2", "'no_such_variable' is undefined"),
])
def test_a_report_template_typo_is_bad_input(demo_run: Path, tmp_path: Path, template, where, what) -> None:
    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / "_glance.html.j2").write_text(template, encoding="utf-8")
    proc = _script("report", str(demo_run / "results.json"), "--out", str(tmp_path / "r.html"),
                   env={"HARNESS_REPORT_TEMPLATES": str(mine)})
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: {mine / '_glance.html.j2'}{where}: ") and what in line
    assert not (tmp_path / "r.html").exists()


def test_output_files_get_normal_permissions(tmp_path: Path) -> None:
    code = ("import os, sys\nos.umask(0o022)\nfrom harness.cli.main import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    out = tmp_path / "out"
    args = ["run", "baseball-hockey", "--model", "a=demo:base", "--only", "--out", str(out), "--bootstrap", "20"]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-c", code, "export", str(out)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    files = sorted(p for p in out.iterdir() if p.is_file())
    assert {"results.json", "predictions.jsonl", "report.html", "metrics.csv"} <= {p.name for p in files}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, (path.name, oct(path.stat().st_mode))


def test_the_cache_lives_in_the_platforms_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_path() == Path(platformdirs.user_cache_dir("harness", appauthor=False)) / "cache.sqlite3"
    # explicit settings keep working, on every platform
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_path() == tmp_path / "xdg" / "harness" / "cache.sqlite3"
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "mine"))
    assert default_cache_path() == tmp_path / "mine" / "cache.sqlite3"


def test_a_cache_left_in_the_old_default_folder_keeps_being_used(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS and Windows: earlier versions used ~/.cache/harness; that cache is not lost by an upgrade."""
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    platform = tmp_path / "home" / "Library" / "Caches" / "harness"
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda *a, **k: str(platform))
    assert default_cache_path() == platform / "cache.sqlite3"
    legacy = tmp_path / "home" / ".cache" / "harness" / "cache.sqlite3"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"")
    assert default_cache_path() == legacy
    platform.mkdir(parents=True)
    (platform / "cache.sqlite3").write_bytes(b"")  # once the new folder has a cache, it wins
    assert default_cache_path() == platform / "cache.sqlite3"


def test_cache_info_says_where_the_cache_is(harness_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "c"))
    res = harness_cli("cache", "info", "--json")
    assert res.code == 0 and json.loads(res.out)["path"] == str(tmp_path / "c" / "cache.sqlite3")


def test_a_report_template_typo_stops_a_run_before_anything_is_scored(tmp_path: Path) -> None:
    from harness.cli.reporting import TEMPLATES_ENV
    from harness_reports.render import ENV_VAR

    assert TEMPLATES_ENV == ENV_VAR
    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / "_glance.html.j2").write_text("ok\n{% for x in %}\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = _script("run", "baseball-hockey", "--model", "a=demo:base", "--only", "--out", str(out),
                   env={ENV_VAR: str(mine)})
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: {mine / '_glance.html.j2'}:2: report template error")
    assert not out.exists()
    proc = _script("run", "baseball-hockey", "--model", "a=demo:base", "--only", "--out", str(out), "--no-report",
                   "--bootstrap", "0", env={ENV_VAR: str(mine)})
    assert proc.returncode == 0, proc.stderr  # no report, no template needed


def test_notices_and_status_lines_are_one_line_each_in_a_log(harness_cli, tmp_path: Path) -> None:
    # a CI log is read (and grepped) line by line: a notice is never wrapped at the console's width, and the data
    # checks' warnings come after the status line that says what is run
    res = harness_cli("run", "baseball-hockey", "--only", "--model", "a=demo:base", "--model", "b=demo:finetuned",
                      "--out", tmp_path / "out", "--no-report", "--progress", "plain", "--bootstrap", "20")
    assert res.code == 0, res.err
    lines = res.err.splitlines()
    left_out = [line for line in lines if "comparison [job/final, job/ckpt-step-22]" in line]
    assert len(left_out) == 1 and left_out[0].startswith("notice: ") and left_out[0].endswith("not among them")
    status = next(i for i, line in enumerate(lines) if line.startswith("baseball-hockey: 338 held-out examples"))
    assert lines[status].endswith("models a, b")
    warning = next(i for i, line in enumerate(lines) if "data check: warning" in line)
    assert status < warning and "too-small" in lines[warning] and "harness plan" in lines[warning]
