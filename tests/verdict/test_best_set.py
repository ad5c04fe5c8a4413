"""The best set (multiple comparisons with the best): it holds the truly best model in at least 95% of
simulated runs at the default alpha, and it is informative (smaller than all models when they differ)."""

from __future__ import annotations

import numpy as np
import pytest
from best_set_sim import Setting, linear_gaps, run

from harness.stats.mcb import best_set


@pytest.mark.parametrize("setting", [
    Setting("5 models, best +2 pts, n=500", 500, (0.82, 0.8, 0.8, 0.8, 0.8)),
    Setting("4 models, 3-pt steps, n=400, load 0.3", 400, linear_gaps(4, 0.8, 0.03), 0.3),
    Setting("3 equal models, n=300, load 0.9", 300, (0.75,) * 3, 0.9),
], ids=lambda s: s.name)
def test_the_set_holds_the_best_model(setting):
    out = run(setting, runs=150, seed=11)
    assert out.coverage >= 0.95, (setting.name, out.coverage)
    if len(setting.best) == 1:
        assert out.coverage_all == out.coverage


def test_the_set_is_informative_when_models_differ():
    out = run(Setting("3 models, 10-pt steps", 400, linear_gaps(3, 0.85, 0.1)), runs=40, seed=3)
    assert out.coverage == 1.0 and out.mean_size < 1.2  # the clearly best model alone


def test_best_set_direction_and_ties():
    rng = np.random.default_rng(0)
    draws = rng.normal([0.2, 0.5, 0.5], 0.01, size=(2000, 3))
    found = best_set([0.2, 0.5, 0.5], draws, 0.05)
    assert found.members == (1, 2) and found.best == 1
    low = best_set([0.2, 0.5, 0.5], draws, 0.05, higher_is_better=False)  # a loss: lower is better
    assert low.members == (0,)
    same = best_set([0.3, 0.3], np.tile([0.3, 0.3], (100, 1)), 0.05)  # identical models: both stay
    assert same.members == (0, 1)
    with pytest.raises(ValueError):
        best_set([0.1, np.nan], draws[:, :2])
