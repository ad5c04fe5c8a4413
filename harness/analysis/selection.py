"""Which model to ship: the set of models that cannot be distinguished from the best on the primary metric
(multiple comparisons with the best, :mod:`harness.stats.mcb`), and the documented tie-break among them.

The set is computed on the rows every model can be scored on (for a probability metric, those where every
model gives probabilities), with the same paired bootstrap resamples for every model (the metric plugin's
vectorised statistic where it has one, :mod:`harness.stats.plan`).

**Tie-break** (docs/report.md, "Verdict"): when the baseline is in the set, nothing is shown better than it,
so the recommendation is to keep it. Otherwise, among the models of the set: the best point value of the
tie-break metric (a calibration metric: the suite's ``selection.tie_break``, default the first calibration
metric of the run — log loss for the built-in metrics), then the cheaper model (lower cost), then the
earlier one (lower training step, then the run's model order). A tie-break is a rule, not a finding: the
models of the set are not shown to differ on the primary metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..metrics import Metric, MetricData, evaluate
from ..stats.mcb import best_set
from ..stats.plan import Job, run_jobs
from .compare import metric_rows, resampler

METHOD = ("multiple comparisons with the best (Hsu's MCB): a model is left out when another is better by "
          "more than a one-sided Dunnett-type critical value from the paired bootstrap (studentised max over "
          "the k - 1 differences)")


@dataclass
class Ranked:
    """A model's values for the tie-break: the tie-break metric (oriented, lower = preferred), cost, step."""

    name: str
    tie_value: float | None
    cost: float | None
    step: float | None
    order: int


def mcb(models: Mapping[str, MetricData], metric: Metric, alpha: float, n_resamples: int, seed: int
        ) -> dict[str, Any]:
    """The MCB set of ``models`` on ``metric``: ``{metric, method, alpha, n, n_resamples, best, members,
    models: [{name, value, in_set, statistic, critical, p_value}]}``, or ``{reason}`` when it cannot be
    computed (a model's metric not available on the common rows)."""
    names = list(models)
    datas = [models[n] for n in names]
    rows = metric_rows(metric, *datas)
    if rows is not None:
        if not rows.any():
            return {"reason": "no example where every model gives probabilities"}
        datas = [d.take(rows) for d in datas]
    values = [evaluate(metric, d) for d in datas]
    missing = [(n, v.reason) for n, v in zip(names, values) if v.value is None]
    if missing:
        return {"reason": f"{metric.name} is not available for {missing[0][0]}: {missing[0][1]}"}
    n = datas[0].n
    stats = {name: resampler(metric, d) for name, d in zip(names, datas)}
    job = Job(stats, n, "mcb")
    job.n_resamples = n_resamples
    run_jobs({"mcb": job}, n_resamples, seed)
    draws = np.column_stack([job.draws[name] for name in names])
    obs = np.array([v.value for v in values], dtype=float)
    found = best_set(obs, draws, alpha, metric.higher_is_better)
    members = [names[i] for i in found.members]
    return {
        "metric": metric.name, "method": METHOD, "alpha": alpha, "n": n, "n_resamples": found.n_resamples,
        "seed": seed, "best": names[found.best], "members": members,
        "models": [{"name": name, "value": float(obs[i]), "in_set": name in members,
                    "statistic": _finite(found.statistic[i]), "critical": _finite(found.critical[i]),
                    "p_value": float(found.p_value[i])} for i, name in enumerate(names)],
    }


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def tie_break(members: Sequence[str], baseline: str, ranked: Mapping[str, Ranked], tie_metric: str | None
              ) -> tuple[str, list[str]]:
    """(the recommended model, the rule's steps in words)."""
    if baseline in members:
        return baseline, [f"the baseline {baseline} is in the set: no model is shown better than it, so keep it"]
    if len(members) == 1:
        return members[0], [f"{members[0]} is the only model in the set"]
    steps: list[str] = []
    pool = list(members)
    values = {m: ranked[m].tie_value for m in pool if ranked[m].tie_value is not None}
    if tie_metric and values:
        best = min(values.values())
        pool = [m for m in pool if m in values and abs(values[m] - best) <= 1e-12]
        steps.append(f"best {tie_metric} among the set: {', '.join(pool)}")
    costs = {m: ranked[m].cost for m in pool if ranked[m].cost is not None}
    if len(pool) > 1 and costs and len(costs) == len(pool) and len(set(costs.values())) > 1:
        low = min(costs.values())
        pool = [m for m in pool if costs[m] <= low + 1e-12]
        steps.append(f"cheaper: {', '.join(pool)}")
    if len(pool) > 1:
        pool.sort(key=lambda m: (ranked[m].step if ranked[m].step is not None else float("inf"), ranked[m].order))
        steps.append(f"earlier (training step, then run order): {pool[0]}")
        pool = pool[:1]
    return pool[0], steps


def ranked_info(results_models: Sequence[dict[str, Any]], tie_metric: Metric | None) -> dict[str, Ranked]:
    """Tie-break values per model from the results' model entries (metric values, cost, info.step)."""
    out = {}
    for i, m in enumerate(results_models):
        value = None
        if tie_metric is not None:
            v = ((m.get("metrics") or {}).get(tie_metric.name) or {}).get("value")
            if isinstance(v, (int, float)):
                value = float(v) if not tie_metric.higher_is_better else -float(v)
        cost = (m.get("cost") or {}).get("usd")
        info = m.get("info") or {}
        step = info.get("step")
        if step is None and info.get("role") == "base":
            step = 0
        out[m["name"]] = Ranked(m["name"], value, float(cost) if isinstance(cost, (int, float)) else None,
                                float(step) if isinstance(step, (int, float)) else None, i)
    return out
