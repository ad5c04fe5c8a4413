"""`harness plan`'s numbers checked against a simulation of the paired test harness runs (mid-p McNemar)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.cli.main import main
from harness.stats.accuracy import mcnemar_midp
from harness.stats.samplesize import paired_mde, paired_power, paired_sample_size, unpaired_sample_size

REPS = 2000


def simulated_power(n: int, accuracy: float, delta: float, discordance: float, alpha: float, seed: int) -> float:
    """Share of simulated held-out sets on which harness's own test (mcnemar_midp < alpha) finds the difference:
    two models of accuracy ``accuracy`` and ``accuracy + delta`` disagreeing on ``discordance`` of examples."""
    rng = np.random.default_rng(seed)
    p10, p01 = (discordance - delta) / 2, (discordance + delta) / 2  # A alone right, B alone right
    p11 = accuracy - p10
    cells = rng.multinomial(n, [p11, p10, p01, 1 - p11 - p10 - p01], size=REPS)
    hits = 0
    for n11, n10, n01, n00 in cells:
        a = np.repeat([True, True, False, False], [n11, n10, n01, n00])
        b = np.repeat([True, False, True, False], [n11, n10, n01, n00])
        hits += mcnemar_midp(a, b) < alpha
    return hits / REPS


SETTINGS = [  # accuracy, mde, discordance, power, alpha
    (0.85, 0.02, 0.10, 0.80, 0.05),
    (0.70, 0.05, 0.15, 0.90, 0.01),
    (0.60, 0.10, 0.30, 0.80, 0.05),
    (0.92, 0.03, 0.06, 0.70, 0.10),
]


@pytest.mark.parametrize("accuracy, mde, discordance, power, alpha", SETTINGS)
def test_the_planned_size_reaches_the_power_in_simulation(accuracy, mde, discordance, power, alpha):
    n = paired_sample_size(mde, discordance, power, alpha)
    se = (power * (1 - power) / REPS) ** 0.5
    assert abs(simulated_power(n, accuracy, mde, discordance, alpha, seed=1) - power) < 4 * se
    smaller = int(n * 0.7)
    assert simulated_power(smaller, accuracy, mde, discordance, alpha, seed=2) < power - 4 * se
    assert paired_power(n, discordance, mde, alpha) >= power > paired_power(n - 1, discordance, mde, alpha) - 0.003


@pytest.mark.parametrize("n, accuracy, discordance, delta, alpha", [
    (40, 0.5, 0.5, 0.2, 0.05), (150, 0.7, 0.2, 0.08, 0.05), (600, 0.8, 0.12, 0.03, 0.01)])
def test_the_exact_power_matches_a_simulation_at_any_size(n, accuracy, discordance, delta, alpha):
    p = paired_power(n, discordance, delta, alpha)
    se = max((p * (1 - p) / REPS) ** 0.5, 0.002)
    assert abs(simulated_power(n, accuracy, delta, discordance, alpha, seed=3) - p) < 4 * se


def test_the_minimum_detectable_difference_inverts_the_size():
    for n, psi in ((338, 0.1), (2000, 0.05), (90, 0.4)):
        d = paired_mde(n, psi)
        assert d is not None and paired_power(n, psi, d) >= 0.8 > paired_power(n, psi, d * 0.97)
    assert paired_mde(10, 0.1) is None  # ten examples detect nothing


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="at most the discordance"):
        paired_sample_size(0.2, 0.1)
    with pytest.raises(ValueError):
        paired_sample_size(0.02, 0.1, power=1.0)


def test_the_plan_command_prints_the_planned_size(capsys):
    assert main(["plan", "--accuracy", "0.85", "--mde", "0.02"]) == 0
    out = capsys.readouterr().out
    assert f"{paired_sample_size(0.02, 0.1):,} held-out examples" in out
    assert main(["plan", "--accuracy", "0.7", "--mde", "0.05", "--discordance", "0.15", "--power", "0.9",
                 "--alpha", "0.01", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n"] == paired_sample_size(0.05, 0.15, 0.9, 0.01)
    assert doc["unpaired_n_per_set"] == unpaired_sample_size(0.7, 0.75, 0.9, 0.01) > doc["n"]
    assert doc["independent_errors"]["discordance"] == pytest.approx(0.7 * 0.25 + 0.75 * 0.3)


@pytest.mark.parametrize("args, fragment", [
    (["--mde", "0.02"], "--accuracy"),
    (["--accuracy", "0.85", "--mde", "0.05", "--discordance", "0.02"], "--discordance"),
    (["--accuracy", "0.99", "--mde", "0.02", "--discordance", "0.5"], "--discordance"),
])
def test_plan_usage_errors_are_one_line(capsys, args, fragment):
    assert main(["plan", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and fragment in err and "\n" not in err


def test_the_kept_critical_values_are_the_ones_computed_for_the_range_alone():
    # the data checks keep critical values per block of d (issue 14: the size check before the first request);
    # a range across blocks, asked in any order, must give what computing it on its own gives
    from harness.stats import samplesize

    samplesize._CRITICAL.clear()
    for first, last, alpha in ((0, 40, 0.05), (250, 530, 0.05), (3, 300, 0.01), (1000, 1100, 0.05), (0, 0, 0.05),
                               (255, 257, 0.1)):
        kept = samplesize._critical_range(first, last, alpha)
        alone = samplesize._critical(np.arange(first, last + 1, dtype=np.int64), alpha)
        assert kept.tolist() == alone.tolist(), (first, last, alpha)


def test_one_pass_rejection_probability_equals_the_two_tails():
    from harness.stats.distributions import binom_cdf, binom_cdf_plus_sf, binom_sf

    rng = np.random.default_rng(5)
    n = rng.integers(0, 3000, 400)
    k_low = rng.integers(-3, 1600, 400)
    k_high = rng.integers(-3, 3003, 400)
    p = rng.random(400)
    p[:5] = [0.0, 1.0, 0.5, 1e-12, 1 - 1e-12]
    both = binom_cdf_plus_sf(k_low, k_high, n, p)
    np.testing.assert_allclose(both, binom_cdf(k_low, n, p) + binom_sf(k_high, n, p), rtol=1e-12, atol=1e-300)
    assert float(binom_cdf_plus_sf(3, 5, 10, 0.5)) == pytest.approx(float(binom_cdf(3, 10, 0.5) + binom_sf(5, 10, 0.5)))
