"""The gate's defaults as a method, in seeded simulations (few runs: seconds; benchmarks/bench_gate.py runs
thousands through files and the CLI): few false fails on equally good models in several settings, power on
a real drop, family-wise control across several rules, and an examples-needed estimate that is right."""

from __future__ import annotations

import numpy as np
import pytest
from gate_sim import simulate, write_run

from harness.analysis.gate import GateConfig, GateInput, ModelRecord, Rule, judge
from harness.metrics import MetricData
from harness.plugins import load_registry
from harness.runner.gate import GateRequest, gate

REGISTRY = load_registry(entry_points=False)
LABELS = ("neg", "pos")
DEFAULTS = (Rule("regression", "accuracy"), Rule("regression", "auroc", optional=True), Rule("health"))


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
    config = GateConfig(tuple(rules), n_resamples=n_resamples)
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
    assert gate_rate <= 0.05 + 2.5 * np.sqrt(0.05 * 0.95 / sims)  # alpha plus Monte Carlo slack
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
