"""`harness plan` with a tiny --mde answers at once: beyond EXACT_SIZE_MAX_N examples the sample size is Connor's
closed form (which the exact power agrees with there), never an exact search over hundreds of millions of
examples (acceptance finding 13). No timings: the exact power is simply never evaluated at such sizes."""

from __future__ import annotations

import json
import math

import pytest
from scipy.special import ndtri

from harness.cli import plan_cmd
from harness.cli.main import main
from harness.stats import samplesize
from harness.stats.samplesize import EXACT_SIZE_MAX_N, paired_sample_size


def connor(delta: float, psi: float, power: float = 0.8, alpha: float = 0.05) -> float:
    z_a, z_b = float(ndtri(1 - alpha / 2)), float(ndtri(power))
    return (z_a * math.sqrt(psi) + z_b * math.sqrt(psi - delta * delta)) ** 2 / delta**2


@pytest.fixture
def no_exact_search_at_large_n(monkeypatch):
    """Fail at once (instead of running for minutes) if the exact power is asked for at a size the closed form
    should answer."""
    exact = samplesize.paired_power

    def guarded(n, *args, **kwargs):
        if n > 4 * EXACT_SIZE_MAX_N:
            raise AssertionError(f"exact power evaluated at n = {n:,}")
        return exact(n, *args, **kwargs)

    monkeypatch.setattr(samplesize, "paired_power", guarded)


@pytest.mark.parametrize("mde, psi, power, alpha", [
    (0.0001, 0.1, 0.8, 0.05), (0.0001, 1.0, 0.9, 0.01), (0.0001, 0.0001, 0.8, 0.05), (0.001, 0.25, 0.8, 0.05),
    (0.0005, 0.02, 0.95, 0.001)])
def test_tiny_differences_get_the_closed_form(no_exact_search_at_large_n, mde, psi, power, alpha):
    n = paired_sample_size(mde, psi, power, alpha)
    assert abs(n - connor(mde, psi, power, alpha)) < 1.01 and n > EXACT_SIZE_MAX_N  # its ceiling


@pytest.mark.parametrize("mde, psi", [(0.003, 0.1), (0.004, 0.3)])
def test_the_closed_form_agrees_with_the_exact_search_beyond_the_limit(monkeypatch, mde, psi):
    approx = paired_sample_size(mde, psi)
    monkeypatch.setattr(samplesize, "EXACT_SIZE_MAX_N", 10**9)
    exact = paired_sample_size(mde, psi)
    assert approx > EXACT_SIZE_MAX_N and exact > EXACT_SIZE_MAX_N
    assert abs(approx - exact) / exact < 0.001  # 0.03% measured; the plan's note says "about 0.03%"


def test_sizes_below_the_limit_stay_exact():
    assert paired_sample_size(0.02, 0.1) == 1949  # README / validate's "about 1,949 examples"
    assert paired_sample_size(0.02, 0.1) < math.ceil(connor(0.02, 0.1))  # not the approximation


def test_plan_with_a_tiny_mde_prints_the_approximate_size_and_says_so(no_exact_search_at_large_n, capsys):
    assert plan_cmd.APPROXIMATE_ABOVE == EXACT_SIZE_MAX_N
    assert main(["plan", "--accuracy", "0.85", "--mde", "0.0001", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert abs(doc["n"] - connor(0.0001, 0.1)) < 1.01 and doc["approximate_above"] == EXACT_SIZE_MAX_N
    assert all(r["n"] > EXACT_SIZE_MAX_N for r in doc["by_discordance"])
    assert main(["plan", "--accuracy", "0.85", "--mde", "0.0001"]) == 0
    out = capsys.readouterr().out
    assert f"{doc['n']:,} held-out examples" in out and "0.01 points" in out and "85.00% vs 85.01%" in out
    assert "normal approximation" in out
    assert main(["plan", "--accuracy", "0.85", "--mde", "0.02"]) == 0
    assert "approximation" not in capsys.readouterr().out  # 1,949 and the table: all exact
