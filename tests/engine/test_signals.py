"""SIGTERM and SIGHUP — what CI systems send when a job is cancelled — are handled as Ctrl-C is: one line saying
so, exit code 128 + the signal (143, 129), every response received so far in the cache, and the same command
resumes (issue 10, item 10). Before, they killed the run with no message."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import DOUBLE, cached_count, harness_subprocess, results_and_rows, run_cli, write_suite
from .fault_server import FaultServer


@pytest.mark.parametrize("sig, code, name, sigint_ignored", [
    (signal.SIGTERM, 143, "SIGTERM", False), (signal.SIGHUP, 129, "SIGHUP", False),
    (signal.SIGTERM, 143, "SIGTERM", True),  # `harness run ... &` from a script: SIGINT is ignored there
])
def test_a_cancelled_ci_job_exits_with_the_signal_and_resumes(tmp_path: Path, cache_file: Path, sig, code,
                                                               name, sigint_ignored) -> None:
    n = 120
    with FaultServer(seed=4, latency=0.03) as srv:
        suite = write_suite(tmp_path / "suite", srv.base_url, n=n, models={"base": "gpt-4o-mini"})
        args = ("run", str(suite), "--plugin", str(DOUBLE), "--out", str(tmp_path / "out"), "--no-report",
                "--concurrency", "2", "--progress", "off")
        proc = harness_subprocess(*args, stderr=subprocess.PIPE, ignore_sigint=sigint_ignored)
        deadline = time.monotonic() + 30
        while cached_count(cache_file) < n // 4 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=20)
        text = err.decode()
        assert proc.returncode == code, text
        assert "Traceback" not in text
        last = text.strip().splitlines()[-1]
        assert last.startswith(f"interrupted ({name}): ") and "the same command resumes" in last
        done = cached_count(cache_file)
        assert n // 4 <= done < n

        assert run_cli(*args) == 0
        assert len(srv.ok) == n and sum(srv.ok.values()) <= n + 2  # only the 2 in flight were asked again
        res, _ = results_and_rows(tmp_path / "out")
        assert res["models"][0]["usage"]["cached"] >= done


SELF_SIGNAL = "import os, signal\nos.kill(os.getpid(), signal.{name})\n"


def _plugins_cmd_receiving(tmp_path: Path, name: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """``harness plugins`` in a child process whose --plugin file sends the process ``name`` while it loads."""
    plugin = tmp_path / "self_signal.py"
    plugin.write_text(SELF_SIGNAL.format(name=name), encoding="utf-8")
    code = ("import signal, sys\n"  # the dispositions not inherited from whatever started the tests (nohup)
            "signal.signal(signal.SIGHUP, signal.SIG_DFL)\nsignal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
            "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            f"{prelude}from harness.cli.main import main\n"
            f"sys.exit(main(['plugins', '--json', '--plugin', {str(plugin)!r}]))\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name, code", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_any_command_reports_the_signal(tmp_path: Path, name, code) -> None:
    proc = _plugins_cmd_receiving(tmp_path, name)
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"interrupted ({name})"]


def test_sigterm_stops_a_command_whose_sigint_is_ignored(tmp_path: Path) -> None:
    """A background job of a non-interactive shell has SIGINT ignored; SIGTERM must still stop it (it ran on)."""
    proc = _plugins_cmd_receiving(tmp_path, "SIGTERM", prelude="signal.signal(signal.SIGINT, signal.SIG_IGN)\n")
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr.strip().splitlines() == ["interrupted (SIGTERM)"]


def test_an_ignored_sighup_stays_ignored(tmp_path: Path) -> None:
    """Under ``nohup`` (SIGHUP ignored) a hangup does not stop harness."""
    proc = _plugins_cmd_receiving(tmp_path, "SIGHUP", prelude="signal.signal(signal.SIGHUP, signal.SIG_IGN)\n")
    assert proc.returncode == 0, proc.stderr
