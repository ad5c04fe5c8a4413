"""The gate's defaults as a method, in seeded simulations (few runs: seconds; benchmarks/bench_gate.py runs
thousands through files and the CLI): few false fails on equally good models in several settings, power on
a real drop, family-wise control across several rules, and an examples-needed estimate that is right."""

from __future__ import annotations

import numpy as np
import pytest
from gate_sim import exact_accuracy_rates, simulate, write_run

from harness.analysis.gate import GateConfig, GateInput, ModelRecord, Rule, judge
from harness.analysis.gate.bounds import paired_binary_limits
from harness.metrics import MetricData
from harness.plugins import load_registry
from harness.runner.gate import GateRequest, gate
from harness.suite.rules import default_rules

REGISTRY = load_registry(entry_points=False)
LABELS = ("neg", "pos")
DEFAULTS = (Rule("regression", "accuracy"), Rule("regression", "auroc", optional=True), Rule("health"))
ALPHA = default_rules().section.alpha  # the defaults' one-sided level (0.04)


def to_input(sim: dict[str, np.ndarray], probabilities: bool = True, rules=DEFAULTS) -> GateInput:
    def data(name: str) -> MetricData:
        p = sim[f"p_{name}"]
        proba = np.column_stack([1 - p, p]) if probabilities else None
        return MetricData(LABELS, sim["gold"], sim[f"pred_{name}"], proba, 1, {})

    n = len(sim["gold"])
    counts = {"n": n, "ok": n, "invalid": 0, "failed": 0}
    metrics = {r.metric: REGISTRY.metrics[r.metric] for r in rules if r.metric}
    return GateInput(ModelRecord("candidate", data("candidate"), counts=counts),
                     ModelRecord("reference", data("reference"), counts=counts), metrics, LABELS)


def fail_rate(seed: int, sims: int, n: int, acc_ref: float, acc_cand: float, load: float,
              probabilities: bool, rules=DEFAULTS, n_resamples: int = 1000) -> tuple[float, float]:
    """(share of runs the gate fails, share the naive `delta < -0.01` rule fails)."""
    rng = np.random.default_rng(seed)
    config = GateConfig(tuple(rules), alpha=ALPHA, n_resamples=n_resamples)
    fails = naive = 0
    for _ in range(sims):
        sim = simulate(rng, n, acc_ref, acc_cand, load)
        v = judge(to_input(sim, probabilities, rules), config)
        assert v.exit_code in (0, 4), v.summary()
        fails += v.exit_code == 4
        naive += np.mean(sim["pred_candidate"] == sim["gold"]) - np.mean(sim["pred_reference"] == sim["gold"]) < -0.01
    return fails / sims, naive / sims


@pytest.mark.parametrize("seed, n, acc, load, probabilities", [
    (1, 500, 0.85, 0.6, False),  # the setting
    (2, 500, 0.85, 0.6, True),
    (3, 150, 0.70, 0.3, True),
    (4, 1000, 0.95, 0.9, False),
    (5, 300, 0.60, 0.0, False),
])
def test_equally_good_models_rarely_fail(seed, n, acc, load, probabilities):
    sims = 150 if probabilities else 300
    gate_rate, naive_rate = fail_rate(seed, sims, n, acc, acc, load, probabilities)
    assert gate_rate <= ALPHA + 2.5 * np.sqrt(ALPHA * (1 - ALPHA) / sims)  # alpha plus Monte Carlo slack
    if n >= 500 and acc < 0.9:
        assert naive_rate > 0.2  # the naive rule fails about a third of them


@pytest.mark.parametrize("seed, n, acc_ref, acc_cand, load, probabilities, at_least", [
    (11, 2000, 0.85, 0.82, 0.6, False, 0.8),  # the setting: about 88%
    (12, 2000, 0.85, 0.82, 0.6, True, 0.8),
    (13, 1000, 0.95, 0.92, 0.9, False, 0.8),
])
def test_a_real_drop_is_caught(seed, n, acc_ref, acc_cand, load, probabilities, at_least):
    gate_rate, _ = fail_rate(seed, 120, n, acc_ref, acc_cand, load, probabilities)
    assert gate_rate >= at_least


@pytest.mark.parametrize("n, acc, load", [
    (500, 0.85, 0.6),  # the setting
    (100, 0.60, 0.0), (200, 0.70, 0.3), (1000, 0.95, 0.9), (2000, 0.75, 0.9),
    (5000, 0.90, 0.6), (5000, 0.60, 0.0),  # large n: where a test at its nominal level reaches alpha
])
def test_the_default_accuracy_rule_fails_clearly_fewer_than_5_percent_of_equal_models(n, acc, load):
    """Exactly, over every paired table (no Monte Carlo noise): the default accuracy rule's false-fail rate
    is at most the defaults' alpha (0.04) — clearly under 5%, so a check on 1,000 simulated runs passes —
    and is not blind (above 2%). The rule's verdict is this decision (checked on simulated runs below)."""
    size = exact_accuracy_rates(n, acc, acc, load, lambda x, y, m: paired_binary_limits(x, y, m, ALPHA)[1] < 0)
    assert 0.02 < size <= ALPHA < 0.05


@pytest.mark.parametrize("n, acc_ref, acc_cand, load, at_least", [
    (2000, 0.85, 0.82, 0.6, 0.84),  # the issue's: a true 3-point drop at n = 2,000 (target 80%)
    (1000, 0.95, 0.92, 0.9, 0.97), (3000, 0.70, 0.67, 0.3, 0.75), (5000, 0.90, 0.88, 0.6, 0.9),
])
def test_the_default_accuracy_rule_keeps_its_power(n, acc_ref, acc_cand, load, at_least):
    power = exact_accuracy_rates(n, acc_ref, acc_cand, load,
                                 lambda x, y, m: paired_binary_limits(x, y, m, ALPHA)[1] < 0)
    assert power >= at_least


def test_the_accuracy_verdict_is_the_exact_decision():
    rng = np.random.default_rng(51)
    config = GateConfig(DEFAULTS[:1], alpha=ALPHA)
    for _ in range(60):
        sim = simulate(rng, 400, 0.85, 0.83, 0.6)
        rc, rr = sim["pred_candidate"] == sim["gold"], sim["pred_reference"] == sim["gold"]
        x, y = int(np.sum(rc & ~rr)), int(np.sum(~rc & rr))
        verdict = judge(to_input(sim, False, DEFAULTS[:1]), config)
        assert (verdict.exit_code == 4) == bool(paired_binary_limits(x, y, 400, ALPHA)[1] < 0)


def test_family_wise_false_fails_stay_at_alpha_across_four_rules():
    rules = (Rule("regression", "accuracy"), Rule("regression", "f1_macro"), Rule("regression", "auroc"),
             Rule("regression", "brier"))
    rng = np.random.default_rng(21)
    config = GateConfig(rules, n_resamples=200)
    family = any_alone = 0
    sims = 100
    for _ in range(sims):
        v = judge(to_input(simulate(rng, 300, 0.8, 0.8, 0.3), True, rules), config)
        family += v.exit_code == 4
        any_alone += any(a.p_value is not None and a.p_value <= 0.05 for a in v.assessments)
    assert family / sims <= 0.05 + 2.5 * np.sqrt(0.05 * 0.95 / sims)
    assert any_alone >= family  # each rule alone at alpha fails more often than the corrected family


def test_the_examples_needed_estimate_gives_about_80_percent_power():
    rng = np.random.default_rng(31)
    pilot = judge(to_input(simulate(rng, 500, 0.85, 0.85, 0.6), False, DEFAULTS[:1]),
                  GateConfig((Rule("regression", "accuracy", detect=0.02),)))
    needed = pilot.assessments[0].examples_needed
    assert needed is not None and 500 < needed < 20000
    rate, _ = fail_rate(32, 100, needed, 0.85, 0.83, 0.6, False, DEFAULTS[:1])
    assert 0.6 <= rate <= 0.95


def test_the_same_through_files_and_the_cli_code_path(tmp_path):
    rng = np.random.default_rng(41)
    fails = []
    for i in range(12):
        sim = simulate(rng, 2000, 0.85, 0.82 if i % 2 else 0.85, 0.6)
        run = write_run(tmp_path / "run", sim, probabilities=True)
        direct = judge(to_input(sim, True), GateConfig(DEFAULTS))
        through_files = gate(GateRequest(run), REGISTRY)
        assert through_files.exit_code == direct.exit_code
        assert [a.verdict for a in through_files.assessments] == [a.verdict for a in direct.assessments]
        fails.append(through_files.exit_code == 4)
    assert sum(fails[1::2]) >= 4 and sum(fails[0::2]) <= 1
