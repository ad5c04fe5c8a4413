"""Simulated checkpoint comparisons for the best-set benchmark and its seeded test: ``k`` classifiers scored
on the same ``n`` examples, with known true accuracies, through the code path a run uses
(:func:`harness.analysis.selection.mcb` with the built-in accuracy metric).

Each model is right on an example when ``load·z + sqrt(1 - load²)·e_model`` exceeds the threshold set for
its accuracy, with ``z`` shared by every model (so right/wrong outcomes are correlated, more so with a
larger ``load``) and the ``e``'s independent standard normals — the latent model of benchmarks/gate_sim.py,
for k models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from harness.analysis.selection import mcb
from harness.metrics import MetricData
from harness_plugins.metrics.classification import Accuracy

LABELS = ("neg", "pos")


@dataclass(frozen=True)
class Setting:
    name: str
    n: int
    accuracies: tuple[float, ...]
    load: float = 0.6

    @property
    def best(self) -> set[int]:
        top = max(self.accuracies)
        return {i for i, a in enumerate(self.accuracies) if a == top}


def models(rng: np.random.Generator, setting: Setting) -> dict[str, MetricData]:
    gold = rng.integers(0, 2, setting.n)
    z = rng.standard_normal(setting.n)
    spread = np.sqrt(1.0 - setting.load ** 2)
    out = {}
    for i, acc in enumerate(setting.accuracies):
        right = setting.load * z + spread * rng.standard_normal(setting.n) > norm.ppf(1.0 - acc)
        out[f"m{i}"] = MetricData(LABELS, gold, np.where(right, gold, 1 - gold))
    return out


@dataclass
class Outcome:
    setting: Setting
    runs: int
    covered: int          # runs whose set holds a truly best model
    covered_all: int      # runs whose set holds every truly best model (differs only with tied best models)
    mean_size: float

    @property
    def coverage(self) -> float:
        return self.covered / self.runs

    @property
    def coverage_all(self) -> float:
        return self.covered_all / self.runs


def run(setting: Setting, runs: int, seed: int, alpha: float = 0.05, n_resamples: int = 1000) -> Outcome:
    rng = np.random.default_rng(seed)
    metric = Accuracy()
    covered = covered_all = 0
    sizes = []
    for r in range(runs):
        found = mcb(models(rng, setting), metric, alpha, n_resamples, seed + r)
        members = {int(name[1:]) for name in found["members"]}
        covered += bool(members & setting.best)
        covered_all += setting.best <= members
        sizes.append(len(members))
    return Outcome(setting, runs, covered, covered_all, float(np.mean(sizes)))


def linear_gaps(k: int, top: float, gap: float) -> tuple[float, ...]:
    """``k`` accuracies: the best at ``top``, each next one ``gap`` lower."""
    return tuple(round(top - i * gap, 6) for i in range(k))


def settings(names: Sequence[str] | None = None) -> list[Setting]:
    all_ = [
        Setting("5 equal models, n=500", 500, (0.8,) * 5),
        Setting("5 models, best +2 pts, n=500", 500, (0.82, 0.8, 0.8, 0.8, 0.8)),
        Setting("5 models, 1-pt steps, n=2000, load 0.8", 2000, linear_gaps(5, 0.85, 0.01), 0.8),
        Setting("3 models, 5-pt steps, n=200, load 0.3", 200, linear_gaps(3, 0.8, 0.05), 0.3),
        Setting("10 models, 0.5-pt steps, n=1000", 1000, linear_gaps(10, 0.9, 0.005)),
        Setting("2 models, equal, n=300, load 0.9", 300, (0.7, 0.7), 0.9),
        Setting("20 models, best +3 pts, n=1000", 1000, (0.83,) + (0.8,) * 19),
    ]
    return [s for s in all_ if names is None or s.name in names]
