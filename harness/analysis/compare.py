"""Paired comparison statistics for a run: a confidence interval for every metric of every model, and for
every comparison (each model vs the baseline, plus pairs the suite names) the delta of each metric with a
confidence interval and a p-value, Holm-corrected across the comparisons, plus Cochran's Q for three or more
models and the minimum detectable accuracy difference.

The core knows no particular metric: a metric plugin may offer a closed-form interval or paired test
(:meth:`Metric.interval`, :meth:`Metric.paired_test`) and a vectorised bootstrap fast path
(:meth:`Metric.resampler`); everything else falls back to a paired bootstrap that calls ``compute`` once per
resample. All models and metrics share one stream of resamples, so every comparison is paired (the same
resampled examples for both models) and the whole analysis costs one pass over the resamples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..metrics import Metric, MetricData, MetricValue, NotAvailable, evaluate
from ..stats.bootstrap import bootstrap_draws, generic_resampled, interval_from_draws, paired_test_from_draws
from ..stats.multiple import cochran_q, holm
from ..stats.power import mde_paired_accuracy
from ..stats.results import Interval, PairedTest
from ..stats.weighted import Linear, fuse_linear

CORRECTION = "holm"


@dataclass
class CompareOptions:
    alpha: float = 0.05
    n_resamples: int = 1000
    seed: int = 0
    pairs: Sequence[tuple[str, str]] = field(default_factory=list)


def comparison_pairs(names: Sequence[str], baseline: str, extra: Sequence[tuple[str, str]] = ()
                     ) -> list[tuple[str, str]]:
    """Each model vs the baseline (candidate first), then the extra pairs, without duplicates."""
    pairs: list[tuple[str, str]] = [(n, baseline) for n in names if n != baseline]
    for a, b in extra:
        if (a, b) not in pairs and (b, a) not in pairs and a != b:
            pairs.append((a, b))
    return pairs


def _safe(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    def call(w: np.ndarray) -> np.ndarray:
        try:
            return np.asarray(fn(w), dtype=float)
        except NotAvailable:
            return np.full(w.shape[0], np.nan)
    return call


def _resampler(metric: Metric, data: MetricData) -> Callable[[np.ndarray], np.ndarray]:
    try:
        fast = metric.resampler(data)
    except NotAvailable:
        fast = None
    if isinstance(fast, Linear):
        return fast  # fused with the other linear statistics into one product per resample chunk
    if fast is not None:
        return _safe(fast)

    def one(idx: np.ndarray) -> float:
        try:
            return float(metric.compute(data.take(idx)))
        except NotAvailable:
            return float("nan")
    return _safe(generic_resampled(one))


def _common_rows(datas: Sequence[MetricData]) -> np.ndarray | None:
    """Rows where every model that gives probabilities gives them (None when that is every row)."""
    masks = [d.has_proba() for d in datas if d.proba is not None]
    if not masks:
        return None
    common = np.logical_and.reduce(masks)
    return None if common.all() else common


def _interval_json(iv: Interval) -> dict[str, Any]:
    out: dict[str, Any] = {"low": float(iv.low), "high": float(iv.high), "method": iv.method}
    if iv.n_resamples is not None:
        out["n_resamples"] = int(iv.n_resamples)
    return out


def _test_json(t: PairedTest) -> dict[str, Any]:
    out: dict[str, Any] = {"delta": float(t.delta), "low": float(t.low), "high": float(t.high),
                           "p_value": float(t.p_value), "method": t.method}
    if t.statistic is not None and np.isfinite(t.statistic):
        out["statistic"] = float(t.statistic)
    if t.n_resamples is not None:
        out["n_resamples"] = int(t.n_resamples)
    return out


class _Bootstrap:
    """Collects the statistics that need resampling, then evaluates them all on one stream of resamples."""

    def __init__(self, n: int, options: CompareOptions) -> None:
        self.n = n
        self.options = options
        self.fns: dict[tuple[str, str], Callable[[np.ndarray], np.ndarray]] = {}
        self.values: dict[tuple[str, str], np.ndarray] = {}

    def need(self, key: tuple[str, str], fn: Callable[[], Callable[[np.ndarray], np.ndarray]]) -> None:
        if key not in self.fns:
            self.fns[key] = fn()

    def run(self) -> None:
        if not self.fns or self.n == 0:
            return
        keyed = {"\x00".join(k): fn for k, fn in self.fns.items()}
        linear = {k: fn for k, fn in keyed.items() if isinstance(fn, Linear)}
        cells = _compress(linear)
        for k in (cells[0] if cells else {}):
            del keyed[k]
        keyed.update(fuse_linear({k: fn for k, fn in keyed.items() if isinstance(fn, Linear)}))
        opts = self.options
        draws = bootstrap_draws(keyed, self.n, opts.n_resamples, opts.seed) if keyed else {}
        if cells:
            stats, counts = cells
            draws.update(bootstrap_draws(fuse_linear(stats), self.n, opts.n_resamples, opts.seed,
                                         cell_counts=counts))
        self.values = {k: draws["\x00".join(k)] for k in self.fns}


MAX_CELLS = 4096


def _unique_rows(design: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(distinct rows, count of each) when there are at most MAX_CELLS, else None. Rows are keyed by a
    random projection (1-D unique, fast) and the grouping is then verified exactly. Not
    :func:`harness.stats.cells.make_cells`: a run's stacked designs have dozens of 0/1 columns, past its
    2**62 mixed-radix limit, where it falls back to sorting rows (seconds at n = 100,000)."""
    key = design @ np.random.default_rng(12345).uniform(1.0, 2.0, design.shape[1])
    _, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
    if len(first) > MAX_CELLS:
        return None
    rows = design[first]
    if not np.array_equal(rows[inverse], design):  # a projection collision: do not compress
        return None
    return rows, counts


def _compress(linear: dict[str, Linear]) -> tuple[dict[str, Linear], np.ndarray] | None:
    """Label-only statistics (designs with few distinct rows) over cells of identical rows.

    Examples whose rows are identical in every such design are interchangeable, so drawing multinomial
    counts over those cells gives the same bootstrap distribution as drawing examples, at a cost
    independent of n; since a cell fixes every model's outcome, the resample is still paired."""
    small = {k: f for k, f in linear.items()  # label counts: small integer designs
             if f.design.shape[1] <= 64 and np.array_equal(f.design, np.round(f.design))}
    if not small:
        return None
    joint = _unique_rows(np.hstack([f.design for f in small.values()]))
    if joint is None:
        return None
    rows, counts = joint
    out, start = {}, 0
    for k, f in small.items():
        width = f.design.shape[1]
        out[k] = Linear(rows[:, start:start + width], f.finish)
        start += width
    return out, counts


def compare(models: Mapping[str, MetricData], metrics: Sequence[Metric], baseline: str,
            options: CompareOptions | None = None,
            observed: Mapping[tuple[str, str], MetricValue] | None = None,
            ) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Return (intervals per model: {model: {metric: {low, high, method}}}, the ``comparisons`` object).

    ``observed`` may pass the metric values already computed, keyed by (model, metric name)."""
    options = options or CompareOptions()
    alpha = options.alpha
    names = list(models)
    datas = list(models.values())
    n = datas[0].n if datas else 0
    observed = {(m, met.name): (observed or {}).get((m, met.name)) or evaluate(met, models[m])
                for m in names for met in metrics}
    pairs = comparison_pairs(names, baseline, options.pairs)
    boot = _Bootstrap(n, options)

    # 1. what needs the bootstrap
    closed_iv: dict[tuple[str, str], Interval] = {}
    for m in names:
        for met in metrics:
            if observed[(m, met.name)].value is None:
                continue
            iv = met.interval(models[m], alpha)
            if iv is not None:
                closed_iv[(m, met.name)] = iv
            else:
                boot.need((m, met.name), lambda met=met, d=models[m]: _resampler(met, d))

    common = _common_rows(datas)
    closed_test: dict[tuple[str, str, str], PairedTest] = {}
    subset_tests: list[tuple[str, str, Metric]] = []
    for a, b in pairs:
        for met in metrics:
            if observed[(a, met.name)].value is None or observed[(b, met.name)].value is None:
                continue
            da, db = models[a], models[b]
            if met.needs_proba and common is not None:
                subset_tests.append((a, b, met))
                continue
            t = met.paired_test(da, db, alpha)
            if t is not None:
                closed_test[(a, b, met.name)] = t
            else:
                boot.need((a, met.name), lambda met=met, d=da: _resampler(met, d))
                boot.need((b, met.name), lambda met=met, d=db: _resampler(met, d))
    boot.run()

    # 2. intervals
    intervals: dict[str, dict[str, Any]] = {m: {} for m in names}
    for m in names:
        for met in metrics:
            key = (m, met.name)
            if key in closed_iv:
                intervals[m][met.name] = _interval_json(closed_iv[key])
            elif key in boot.values:
                iv = interval_from_draws(boot.values[key], observed[key].value, alpha)  # type: ignore[arg-type]
                if np.isfinite(iv.low) and np.isfinite(iv.high):
                    intervals[m][met.name] = _interval_json(iv)

    # 3. paired tests
    results_pairs: list[dict[str, Any]] = []
    for a, b in pairs:
        entry: dict[str, Any] = {"a": a, "b": b, "n": n, "metrics": {}}
        da, db = models[a], models[b]
        correct_a = da.y_pred == da.y_true
        correct_b = db.y_pred == db.y_true
        discordance = float(np.mean(correct_a != correct_b)) if n else 0.0
        entry["discordant"] = {"a_only": int(np.sum(correct_a & ~correct_b)),
                               "b_only": int(np.sum(~correct_a & correct_b))}
        entry["mde_accuracy"] = float(mde_paired_accuracy(n, discordance, alpha)) if n else None
        for met in metrics:
            va, vb = observed[(a, met.name)].value, observed[(b, met.name)].value
            if va is None or vb is None:
                reason = observed[(a, met.name)].reason or observed[(b, met.name)].reason
                entry["metrics"][met.name] = {"delta": None, "reason": reason}
                continue
            t = closed_test.get((a, b, met.name))
            if t is None and (a, b, met) in subset_tests:
                t = _subset_test(met, da, db, common, options)  # type: ignore[arg-type]
            if t is None:
                sa, sb = boot.values.get((a, met.name)), boot.values.get((b, met.name))
                if sa is None or sb is None:
                    continue
                t = _bootstrap_test(sa, sb, va, vb, alpha)
            if t is None:
                entry["metrics"][met.name] = {"delta": va - vb, "reason": "no resample defined the metric"}
                continue
            entry["metrics"][met.name] = _test_json(t)
        results_pairs.append(entry)

    # 4. Holm across the family of comparisons, per metric
    for met in metrics:
        rows = [p["metrics"][met.name] for p in results_pairs
                if met.name in p["metrics"] and p["metrics"][met.name].get("p_value") is not None]
        if rows:
            for row, adj in zip(rows, holm([r["p_value"] for r in rows])):
                row["p_adjusted"] = float(adj)

    omnibus = None
    if len(names) >= 3 and n:
        correct = np.column_stack([models[m].y_pred == models[m].y_true for m in names])
        q, df, p = cochran_q(correct)
        omnibus = {"test": "cochran-q", "on": "accuracy (per-example correctness)", "statistic": float(q),
                   "df": int(df), "p_value": float(p)}

    comparisons = {
        "alpha": alpha, "n_resamples": options.n_resamples, "seed": options.seed,
        "correction": CORRECTION,
        "family": f"per metric, across the {len(pairs)} comparison(s) of this run",
        "omnibus": omnibus, "pairs": results_pairs,
    }
    return intervals, comparisons


def _bootstrap_test(sa: np.ndarray, sb: np.ndarray, va: float, vb: float, alpha: float) -> PairedTest | None:
    t = paired_test_from_draws(sa, sb, va, vb, alpha)
    return t if np.isfinite(t.p_value) else None


def _subset_test(met: Metric, da: MetricData, db: MetricData, rows: np.ndarray,
                 options: CompareOptions) -> PairedTest | None:
    """A probability metric where some rows lack probabilities: test on the rows both models scored."""
    sa, sb = da.take(rows), db.take(rows)
    t = met.paired_test(sa, sb, options.alpha)
    if t is not None:
        return t
    try:
        va, vb = float(met.compute(sa)), float(met.compute(sb))
    except NotAvailable:
        return None
    draws = bootstrap_draws({"a": _resampler(met, sa), "b": _resampler(met, sb)}, int(rows.sum()),
                            options.n_resamples, options.seed)
    return _bootstrap_test(draws["a"], draws["b"], va, vb, options.alpha)
