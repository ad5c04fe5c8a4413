"""Paired comparison statistics for a run: a confidence interval for every metric of every model, and for
every comparison (each model vs the baseline, plus pairs the suite names) the delta of each metric with a
confidence interval and a p-value, Holm-corrected across the comparisons, plus Cochran's Q for three or more
models and the minimum detectable accuracy difference.

The contract (docs/results-format.md, "Comparisons"): per pair and metric, ``n`` is the number of examples
used — every example for label metrics, the examples where *both* models give probabilities for probability
metrics — and ``delta == value_a - value_b``, the metric of each model on exactly those examples, so a pair's
numbers never depend on the other models of the run. What is undefined is ``null`` with a ``reason``.

The core knows no particular metric: a metric plugin may offer a closed-form interval or paired test
(:meth:`Metric.interval`, :meth:`Metric.paired_test`, which may raise :class:`NotAvailable`) and a vectorised
bootstrap fast path (:meth:`Metric.resampler`); everything else falls back to a paired bootstrap that calls
``compute`` once per resample. The bootstrap jobs run through :mod:`harness.stats.plan`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..metrics import Metric, MetricData, MetricValue, NotAvailable, evaluate, failure_reason
from ..stats.bootstrap import generic_resampled, interval_from_draws, order_rank, paired_test_from_draws
from ..stats.linear import Linear
from ..stats.multiple import cochran_q, holm
from ..stats.plan import Job, run_jobs
from ..stats.results import Interval, PairedTest
from ..stats.samplesize import detectable_difference

CORRECTION = "holm"
MDE_POWER = 0.8


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


def metric_rows(metric: Metric, *datas: MetricData) -> np.ndarray | None:
    """Rows a metric is computed on for these models together: those where every one of them gives
    probabilities for a probability metric, else every row (None)."""
    if not metric.needs_proba:
        return None
    mask = np.logical_and.reduce([d.has_proba() for d in datas])
    return None if mask.all() else mask


def _safe(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    def call(w: np.ndarray) -> np.ndarray:
        try:
            return np.asarray(fn(w), dtype=float)
        except Exception:  # noqa: BLE001 — NotAvailable, or a plugin's bug: no value for these resamples
            return np.full(w.shape[0], np.nan)
    return call


def resampler(metric: Metric, data: MetricData) -> Callable[[np.ndarray], np.ndarray]:
    """The metric's bootstrap statistic on ``data`` (its fast path, else ``compute`` once per resample)."""
    try:
        fast = metric.resampler(data)
    except Exception:  # noqa: BLE001 — NotAvailable, or a plugin's bug: compute once per resample instead
        fast = None
    if isinstance(fast, Linear):
        return fast  # fused with the other linear statistics into one product per resample chunk
    if fast is not None:
        return _safe(fast)

    def one(idx: np.ndarray) -> float:
        try:
            return float(metric.compute(data.take(idx)))
        except Exception:  # noqa: BLE001 — NotAvailable, or a plugin's bug: no value for this resample
            return float("nan")
    return _safe(generic_resampled(one))


def closed_form(fn: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """Call a metric's closed-form hook (:meth:`Metric.interval`, :meth:`Metric.paired_test`): (result or
    None, the reason when the statistic is not available). The gate reads the hooks through it too."""
    try:
        return fn(*args), None
    except NotAvailable as na:
        return None, na.reason
    except Exception as exc:  # noqa: BLE001 — a plugin's edge case or bug must not stop the run
        return None, failure_reason(exc, hook=getattr(fn, "__name__", "a statistics hook"))


def _rows_key(rows: np.ndarray | None) -> Any:
    return "all" if rows is None else np.packbits(rows).tobytes()


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def interval_json(iv: Interval, method: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"low": _finite(iv.low), "high": _finite(iv.high), "method": method or iv.method}
    if iv.n_resamples is not None:
        out["n_resamples"] = int(iv.n_resamples)
    if out["low"] is None or out["high"] is None:
        out["low"] = out["high"] = None
        out["reason"] = ("the metric is undefined on every resample" if not iv.n_resamples
                         else _rare(iv.n_undefined, iv.n_resamples) if iv.n_undefined
                         else "too few usable resamples for this confidence level")
    return out


def _rare(undefined: int, used: int | None) -> str:
    share = undefined / max(1, undefined + (used or 0))
    return (f"the metric is undefined on {share:.0%} of resamples (a class too rare in these examples): the "
            "remaining resamples would understate its uncertainty, so no interval or test is given")


def test_fields(t: PairedTest, alpha: float, method: str | None = None) -> dict[str, Any]:
    """A paired test's interval, p-value and method; nulls with a reason where it has none."""
    out: dict[str, Any] = {"low": _finite(t.low), "high": _finite(t.high), "p_value": _finite(t.p_value),
                           "method": method or t.method, "reason": None}
    if t.statistic is not None and np.isfinite(t.statistic):
        out["statistic"] = float(t.statistic)
    if t.n_resamples is not None:
        out["n_resamples"] = int(t.n_resamples)
    if out["p_value"] is None:
        out["low"] = out["high"] = None
        out["reason"] = (_rare(t.n_undefined, t.n_resamples) if t.n_resamples and t.n_undefined
                         else "the metric is undefined on every resample: no paired test")
    elif out["low"] is None or out["high"] is None:
        out["low"] = out["high"] = None
        out["reason"] = f"too few usable resamples ({t.n_resamples}) for a {1 - alpha:g} interval"
    return out


def skipped_pairs(pairs: Sequence[tuple[str, str]], models: Mapping[str, MetricData],
                  not_scored: Mapping[str, str]) -> list[dict[str, str]]:
    out = []
    for a, b in pairs:
        for name in (a, b):
            if name not in models:
                reason = not_scored.get(name, "not scored")
                out.append({"a": a, "b": b, "reason": f"{name} is not scored: {reason}"})
                break
    return out


MAX_RESAMPLES_FACTOR = 20
"""Item 9 of issue 9: bootstrap tests near the threshold may be re-run with up to this many times the
run's resamples (at least 20,000)."""


def refine_resolution(pairs: list[dict[str, Any]], metrics: Sequence[Metric],
                      pending: Mapping[tuple[Any, ...], dict[str, Any]], jobs: Mapping[tuple[Any, ...], Job],
                      options: CompareOptions, fill: Callable[[tuple[Any, ...]], None]) -> list[str]:
    """A bootstrap p-value cannot go below 1/(B+1), so with m tests in a metric's Holm family none can be
    significant unless ``m/(B+1) < alpha``. Re-run the bootstrap tests that could be significant (raw
    p < alpha) with enough resamples for ``4m/alpha`` resolution; say so, and say when even that is not
    possible."""
    notes: list[str] = []
    alpha, base = options.alpha, options.n_resamples
    cap = max(MAX_RESAMPLES_FACTOR * base, 20_000)
    for met in metrics:
        family = [p["metrics"][met.name] for p in pairs if p["metrics"][met.name]["p_value"] is not None]
        m = len(family)
        need = int(np.ceil(4 * m / alpha))
        keys = [k for k, row in pending.items() if k[3] == met.name and row["p_value"] is not None
                and row["p_value"] < alpha and (row.get("n_resamples") or 0) + 1 < need]
        if not keys:
            continue
        target = min(cap, max(need, 2 * base))
        for key in keys:
            jobs[key].n_resamples = target
        run_jobs({k: jobs[k] for k in keys}, base, options.seed)
        for key in keys:
            fill(key)
        notes.append(f"{met.name}: {m} comparisons share a Holm family, and a bootstrap p-value cannot go "
                     f"below 1/(B+1) = {1 / (base + 1):.2g}; the {len(keys)} bootstrap test(s) with p < alpha "
                     f"were re-run with {target} resamples (the same resamples, extended)")
        if order_rank(target, alpha / m) < 1:  # 1/(target+1) >= alpha/m
            notes.append(f"{met.name}: even with {target} resamples no bootstrap p-value can reach "
                         f"alpha / {m} = {alpha / m:.2g}: raise --bootstrap or compare fewer models")
    return notes


class _Run:
    """One call of :func:`compare`: the jobs it needs and what it found."""

    def __init__(self, models: Mapping[str, MetricData], metrics: Sequence[Metric], options: CompareOptions,
                 observed: Mapping[tuple[str, str], MetricValue]) -> None:
        self.models, self.metrics, self.options, self.observed = models, metrics, options, observed
        self.jobs: dict[tuple[Any, ...], Job] = {}
        self.methods: dict[tuple[Any, ...], str] = {}
        self._stats: dict[tuple[Any, ...], Callable[[np.ndarray], np.ndarray]] = {}

    def stat(self, name: str, met: Metric, data: MetricData, rows: np.ndarray | None
             ) -> Callable[[np.ndarray], np.ndarray]:
        """A model's bootstrap statistic on some rows, built once and shared by every job that needs it."""
        key = (name, met.name, _rows_key(rows))
        if key not in self._stats:
            self._stats[key] = resampler(met, data if rows is None else data.take(rows))
        return self._stats[key]

    def job(self, key: tuple[Any, ...], rows: np.ndarray | None, stats: dict[str, Any]) -> None:
        m = next(iter(self.models.values())).n if rows is None else int(rows.sum())
        self.jobs[key] = Job(stats, m, _rows_key(rows))
        method = getattr(next(iter(stats.values())), "method", None)
        if method:
            self.methods[key] = method

    def interval(self, name: str, met: Metric) -> dict[str, Any] | tuple[Any, ...]:
        """The interval's JSON, or the key of the bootstrap job that will give it."""
        ov = self.observed[(name, met.name)]
        if ov.value is None:
            return {"low": None, "high": None, "reason": ov.reason}
        data = self.models[name]
        iv, reason = closed_form(met.interval, data, self.options.alpha)
        if reason is not None:
            return {"low": None, "high": None, "method": None, "reason": reason}
        if iv is not None:
            return interval_json(iv)
        rows = metric_rows(met, data)
        key = ("iv", name, met.name)
        self.job(key, rows, {"x": self.stat(name, met, data, rows)})
        return key

    def pair_metric(self, a: str, b: str, met: Metric) -> tuple[dict[str, Any], tuple[Any, ...] | None]:
        """(the entry, the key of the bootstrap job that will test it, if any)."""
        da, db = self.models[a], self.models[b]
        rows = metric_rows(met, da, db)
        n = da.n if rows is None else int(rows.sum())
        entry: dict[str, Any] = {"n": n, "value_a": None, "value_b": None, "delta": None, "low": None,
                                 "high": None, "p_value": None, "p_adjusted": None, "method": None,
                                 "reason": None}
        if rows is not None:
            if n == 0:
                entry["reason"] = "no example where both models give probabilities"
                return entry, None
            da, db = da.take(rows), db.take(rows)
            va, vb = evaluate(met, da), evaluate(met, db)
        else:
            va, vb = self.observed[(a, met.name)], self.observed[(b, met.name)]
        entry["value_a"], entry["value_b"] = va.value, vb.value
        if va.value is None or vb.value is None:
            who = a if va.value is None else b
            entry["reason"] = f"{met.name} is not available for {who}: {(va.reason or vb.reason)}"
            return entry, None
        entry["delta"] = va.value - vb.value
        t, reason = closed_form(met.paired_test, da, db, self.options.alpha)
        if reason is not None:
            entry["reason"] = f"no paired test: {reason}"
            return entry, None
        if t is not None:
            entry.update(test_fields(t, self.options.alpha))
            return entry, None
        key = ("pair", a, b, met.name)
        full_a, full_b = self.models[a], self.models[b]
        self.job(key, rows, {"a": self.stat(a, met, full_a, rows), "b": self.stat(b, met, full_b, rows)})
        return entry, key


def compare(models: Mapping[str, MetricData], metrics: Sequence[Metric], baseline: str,
            options: CompareOptions | None = None,
            observed: Mapping[tuple[str, str], MetricValue] | None = None,
            not_scored: Mapping[str, str] | None = None, order: Sequence[str] | None = None,
            ) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Return (intervals per model: {model: {metric: {low, high, method?, n_resamples?, reason?}}}, the
    ``comparisons`` object).

    ``models`` are the scored models; ``not_scored`` maps a model that is not (it answered no example) to
    the reason, and its pairs are listed under ``skipped``. ``order`` is the run's model order (default: the
    scored models, then the others). ``observed`` may pass the metric values already computed, keyed by
    (model, metric name)."""
    options = options or CompareOptions()
    alpha = options.alpha
    not_scored = dict(not_scored or {})
    names = list(order) if order is not None else list(models) + [m for m in not_scored if m not in models]
    scored = [m for m in names if m in models]
    observed = {(m, met.name): (observed or {}).get((m, met.name)) or evaluate(met, models[m])
                for m in scored for met in metrics}
    all_pairs = comparison_pairs(names, baseline, options.pairs)
    pairs = [(a, b) for a, b in all_pairs if a in models and b in models]
    run = _Run(models, metrics, options, observed)

    pending_iv = {(m, met.name): run.interval(m, met) for m in scored for met in metrics}
    results_pairs: list[dict[str, Any]] = []
    pending_tests: dict[tuple[Any, ...], dict[str, Any]] = {}
    for a, b in pairs:
        da, db = models[a], models[b]
        correct_a, correct_b = da.y_pred == da.y_true, db.y_pred == db.y_true
        entry: dict[str, Any] = {"a": a, "b": b, "n": da.n, "metrics": {},
                                 "discordant": {"a_only": int(np.sum(correct_a & ~correct_b)),
                                                "b_only": int(np.sum(~correct_a & correct_b))}}
        for met in metrics:
            row, key = run.pair_metric(a, b, met)
            entry["metrics"][met.name] = row
            if key is not None:
                pending_tests[key] = row
        results_pairs.append(entry)

    run_jobs(run.jobs, options.n_resamples, options.seed)

    intervals: dict[str, dict[str, Any]] = {m: {} for m in scored}
    for (m, mname), iv in pending_iv.items():
        if isinstance(iv, tuple):
            value = observed[(m, mname)].value
            got = interval_from_draws(run.jobs[iv].draws["x"], value, alpha)  # type: ignore[arg-type]
            iv = interval_json(got, run.methods.get(iv))
        intervals[m][mname] = iv

    def fill(key: tuple[Any, ...]) -> None:
        row, draws = pending_tests[key], run.jobs[key].draws
        t = paired_test_from_draws(draws["a"], draws["b"], row["value_a"], row["value_b"], alpha)
        row.update(test_fields(t, alpha, run.methods.get(key)))

    for key in pending_tests:
        fill(key)
    notes = refine_resolution(results_pairs, metrics, pending_tests, run.jobs, options, fill)

    for met in metrics:  # Holm across the family of comparisons, per metric
        rows = [p["metrics"][met.name] for p in results_pairs if p["metrics"][met.name]["p_value"] is not None]
        for row, adj in zip(rows, holm([r["p_value"] for r in rows])):
            row["p_adjusted"] = float(adj)

    mde_alpha = alpha / max(1, len(pairs))
    for entry in results_pairs:
        da, db = models[entry["a"]], models[entry["b"]]
        discordance = float(np.mean((da.y_pred == da.y_true) != (db.y_pred == db.y_true))) if da.n else 0.0
        entry["mde_accuracy"] = detectable_difference(da.n, discordance, MDE_POWER, mde_alpha)  # None: none detectable

    omnibus = None
    if len(scored) >= 3 and models[scored[0]].n:
        correct = np.column_stack([models[m].y_pred == models[m].y_true for m in scored])
        q, df, p = cochran_q(correct)
        omnibus = {"test": "cochran-q", "on": "accuracy (per-example correctness)", "statistic": float(q),
                   "df": int(df), "p_value": float(p), "models": scored}

    comparisons = {
        "alpha": alpha, "n_resamples": options.n_resamples, "seed": options.seed,
        "correction": CORRECTION,
        "family": f"per metric, across the {len(pairs)} comparison(s) of this run",
        "significance": "▲/▼ and verdicts use p_adjusted < alpha; intervals are unadjusted (1 - alpha)",
        "mde": {"power": MDE_POWER, "alpha": mde_alpha,
                "rule": f"alpha / {max(1, len(pairs))} comparisons, Holm's strictest threshold"},
        "omnibus": omnibus, "pairs": results_pairs,
        "skipped": skipped_pairs(all_pairs, models, not_scored), "notes": notes,
    }
    return intervals, comparisons


__all__ = ["CompareOptions", "closed_form", "compare", "comparison_pairs", "interval_json", "metric_rows",
           "resampler", "test_fields"]
