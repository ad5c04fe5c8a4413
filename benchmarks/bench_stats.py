"""Benchmark of the statistics layer on a realistic paired binary evaluation.

Run ``python benchmarks/bench_stats.py`` (``--n 1000000`` for the memory check).

Two correlated models (a "base" and a slightly better "fine-tuned" one, sharing
a per-example difficulty term) score ``n`` binary examples.  Timed, end to end:

* per model: accuracy (Wilson), AUROC (DeLong), and percentile-bootstrap
  intervals for F1, AUPRC, log loss, Brier and ECE;
* paired: McNemar mid-p + Agresti-Min, DeLong test, and paired bootstrap tests
  for F1, precision, recall, AUPRC, log loss, Brier and ECE;

with ``--resamples`` (default 1000) resamples.  Label-only metrics use the
cells fast path, the others the example-level count matrices; each path draws
its resamples once and shares them among all its metrics and both models.

The baseline is the naive loop (per resample: ``rng.choice`` of indices, then
scikit-learn's f1/precision/recall/average_precision/log_loss/brier_score_loss
and a numpy ECE, for both models), timed on ``--naive-resamples`` resamples and
extrapolated linearly.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "2"

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn import metrics as skm  # noqa: E402

from harness.stats import weighted as wt  # noqa: E402
from harness.stats.accuracy import paired_accuracy_test, wilson_interval  # noqa: E402
from harness.stats.bootstrap import paired_bootstrap_many  # noqa: E402
from harness.stats.cells import make_cells  # noqa: E402
from harness.stats.delong import delong_compare  # noqa: E402
from harness.stats.resample import resample_counts  # noqa: E402


def make_data(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    sign = 2.0 * y - 1.0
    shared = rng.normal(size=n)  # per-example difficulty, common to both models
    out: dict[str, np.ndarray] = {"y": y}
    for name, skill in (("a", 1.6), ("b", 1.75)):
        logit = skill * sign + 0.9 * shared + 0.7 * rng.normal(size=n)
        p = np.round(1.0 / (1.0 + np.exp(-logit)), 4)  # 4 decimals -> realistic ties
        pred = p >= 0.5
        out[f"p_{name}"] = p
        out[f"pred_{name}"] = pred
        out[f"correct_{name}"] = pred == y
        out[f"conf_{name}"] = np.maximum(p, 1.0 - p)
        out[f"ptrue_{name}"] = np.where(y, p, 1.0 - p)
        out[f"sqerr_{name}"] = (y - p) ** 2
    return out


def fast_all(
    d: dict[str, np.ndarray], n_resamples: int, seed: int, max_cells: int
) -> tuple[dict, dict]:
    """Everything the report needs; returns (results, timings)."""
    timings: dict[str, float] = {}
    res: dict[str, object] = {}
    n = d["y"].size
    y = d["y"]

    t0 = time.perf_counter()
    for m in "ab":
        res[f"accuracy {m}"] = wilson_interval(int(d[f"correct_{m}"].sum()), n)
    res["accuracy a-b"] = paired_accuracy_test(d["correct_a"], d["correct_b"])
    res["auroc a"], res["auroc b"], res["auroc a-b"] = delong_compare(y, d["p_a"], d["p_b"])
    timings["closed form (Wilson, DeLong, McNemar)"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    cells = make_cells(y, d["pred_a"], d["pred_b"])
    cy, ca, cb = cells.columns
    one_c = cells.counts[None, :].astype(np.float64)
    bc = {"a": wt.BinaryCounts(cy, ca), "b": wt.BinaryCounts(cy, cb)}
    label_metrics = {}
    for name, fn in (("f1", "fbeta"), ("precision", "precision"), ("recall", "recall")):
        fa, fb = getattr(bc["a"], fn), getattr(bc["b"], fn)
        label_metrics[name] = (fa, fb, float(fa(one_c)[0]), float(fb(one_c)[0]))
    out = paired_bootstrap_many(label_metrics, n, n_resamples, seed=seed, cell_counts=cells.counts)
    for name, r in out.items():
        res[f"{name} a"], res[f"{name} b"], res[f"{name} a-b"] = r.a, r.b, r.test
    timings[f"bootstrap, cells path ({cells.n_cells} cells): F1/P/R"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    one = np.ones((1, n))
    linear = {  # log loss, Brier, ECE of both models: one product per chunk (wt.fuse_linear)
        f"{name} {m}": stat
        for m in "ab"
        for name, stat in (("log loss", wt.Mean(wt.log_loss_terms(d[f"ptrue_{m}"]))),
                           ("brier", wt.Mean(d[f"sqerr_{m}"])),
                           ("ece", wt.Calibration(d[f"conf_{m}"], d[f"correct_{m}"], 10)))
    }
    fused = wt.fuse_linear(linear)
    prepared = {
        m: {
            "auprc": wt.Ranked(y, d[f"p_{m}"]).average_precision,
            **{name: fused[f"{name} {m}"] for name in ("log loss", "brier", "ece")},
        }
        for m in "ab"
    }
    example_metrics = {
        name: (
            prepared["a"][name],
            prepared["b"][name],
            float(prepared["a"][name](one)[0]),
            float(prepared["b"][name](one)[0]),
        )
        for name in ("auprc", "log loss", "brier", "ece")
    }
    out = paired_bootstrap_many(example_metrics, n, n_resamples, seed=seed, max_cells=max_cells)
    for name, r in out.items():
        res[f"{name} a"], res[f"{name} b"], res[f"{name} a-b"] = r.a, r.b, r.test
    timings["bootstrap, example path: AUPRC/log loss/Brier/ECE"] = time.perf_counter() - t0
    return res, timings


def naive_loop(d: dict[str, np.ndarray], n_resamples: int, seed: int) -> float:
    """Seconds for the naive per-resample loop over ``n_resamples`` resamples."""
    rng = np.random.default_rng(seed)
    y = d["y"]
    n = y.size
    probs = {m: np.column_stack([1.0 - d[f"p_{m}"], d[f"p_{m}"]]) for m in "ab"}
    t0 = time.perf_counter()
    for _ in range(n_resamples):
        idx = rng.choice(n, size=n, replace=True)
        yy = y[idx]
        for m in "ab":
            pred, p = d[f"pred_{m}"][idx], d[f"p_{m}"][idx]
            skm.f1_score(yy, pred, zero_division=0)
            skm.precision_score(yy, pred, zero_division=0)
            skm.recall_score(yy, pred, zero_division=0)
            skm.average_precision_score(yy, p)
            skm.log_loss(yy, probs[m][idx], labels=[False, True])
            skm.brier_score_loss(yy, p)
            wt.expected_calibration_error(d[f"conf_{m}"][idx], d[f"correct_{m}"][idx], 10)
    return time.perf_counter() - t0


def check_point_estimates(d: dict[str, np.ndarray], res: dict) -> float:
    """Largest |ours - scikit-learn| over the full-data point estimates."""
    y = d["y"]
    worst = 0.0
    for m in "ab":
        ref = {
            "f1": skm.f1_score(y, d[f"pred_{m}"]),
            "precision": skm.precision_score(y, d[f"pred_{m}"]),
            "recall": skm.recall_score(y, d[f"pred_{m}"]),
            "auprc": skm.average_precision_score(y, d[f"p_{m}"]),
            "auroc": skm.roc_auc_score(y, d[f"p_{m}"]),
            "log loss": float(np.mean(-np.log(np.clip(d[f"ptrue_{m}"], 1e-15, 1)))),
            "brier": skm.brier_score_loss(y, d[f"p_{m}"]),
            "accuracy": skm.accuracy_score(y, d[f"pred_{m}"]),
        }
        for name, value in ref.items():
            worst = max(worst, abs(res[f"{name} {m}"].value - value))
    return worst


def harness_pipeline(d: dict[str, np.ndarray], n_resamples: int, seed: int) -> tuple[float, float, dict]:
    """What `harness run` does: harness.compare with the built-in metric plugins (11 metrics, CIs for both
    models and the paired tests), on the same data. Returns (wall, cpu, comparisons)."""
    from harness.compare import CompareOptions, compare
    from harness.metrics import MetricData
    from harness.plugins import load_registry

    registry = load_registry(entry_points=False)
    y = d["y"].astype(np.int64)
    models = {}
    for m in "ab":
        p = d[f"p_{m}"]
        models[m] = MetricData(("neg", "pos"), y, d[f"pred_{m}"].astype(np.int64), np.column_stack([1 - p, p]),
                               1, {"beta": 1.0, "ece_bins": 10})
    t0, c0 = time.perf_counter(), time.process_time()
    _, comparisons = compare(models, list(registry.metrics.values()), "b",
                             CompareOptions(n_resamples=n_resamples, seed=seed))
    return time.perf_counter() - t0, time.process_time() - c0, comparisons


def fmt(x: float) -> str:
    return f"{x:.4f}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="paired examples")
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument(
        "--naive-resamples",
        type=int,
        default=None,
        help="resamples for the naive baseline (default 50, 5 for n > 200k)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=1, help="repeat the fast run, report the best")
    ap.add_argument(
        "--max-cells",
        type=int,
        default=None,
        help="cells per bootstrap chunk (default 8e6; 32e6 for n > 200k: fewer, larger chunks)",
    )
    args = ap.parse_args()
    naive_b = args.naive_resamples or (50 if args.n <= 200_000 else 5)
    args.max_cells = args.max_cells or (8_000_000 if args.n <= 200_000 else 32_000_000)

    d = make_data(args.n, args.seed)
    best = None
    load_before = os.getloadavg()[0]
    for _ in range(max(1, args.repeats)):
        t0, c0 = time.perf_counter(), time.process_time()
        res, timings = fast_all(d, args.resamples, args.seed, args.max_cells)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if best is None or wall < best[0]:
            best = (wall, cpu, res, timings)
    wall, cpu, res, timings = best
    peak_fast_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"n = {args.n:,} paired examples, {args.resamples:,} resamples, "
        f"threads = {os.environ['OMP_NUM_THREADS']}, cpus = {os.cpu_count()}, "
        f"load average before = {load_before:.2f}"
    )
    print()
    print(f"{'metric':<12}{'A [95% CI]':<28}{'B [95% CI]':<28}{'A-B [95% CI]':<30}{'p':>10}")
    names = ("accuracy", "auroc", "f1", "precision", "recall", "auprc", "log loss", "brier", "ece")
    for name in names:
        cols = []
        for m in "ab":
            iv = res.get(f"{name} {m}")
            cols.append(f"{fmt(iv.value)} [{fmt(iv.low)}, {fmt(iv.high)}]" if iv else "-")
        t = res[f"{name} a-b"]
        diff = f"{fmt(t.delta)} [{fmt(t.low)}, {fmt(t.high)}]"
        print(f"{name:<12}{cols[0]:<28}{cols[1]:<28}{diff:<30}{t.p_value:>10.3g}")
    print()
    print(f"{'stage':<58}{'seconds':>10}")
    for stage, sec in timings.items():
        print(f"{stage:<58}{sec:>10.3f}")
    print(f"{'TOTAL (all intervals and tests), wall':<58}{wall:>10.3f}")
    print(f"{'TOTAL, CPU time of all threads':<58}{cpu:>10.3f}")
    print(f"peak RSS after the fast run: {peak_fast_mb:,.0f} MB")
    print(f"max |point estimate - scikit-learn|: {check_point_estimates(d, res):.1e}")

    t0 = time.perf_counter()
    rows = sum(c.shape[0] for c in resample_counts(args.n, args.resamples, args.seed))
    print(
        f"resample_counts alone ({rows:,} rows of n = {args.n:,}): {time.perf_counter() - t0:.3f} s"
    )

    pipe_wall, pipe_cpu, comp = harness_pipeline(d, args.resamples, args.seed)
    tested = comp["pairs"][0]["metrics"]
    print(f"harness pipeline (harness.compare + built-in plugins, {len(tested)} metrics, CIs and tests): "
          f"{pipe_wall:.3f} s wall, {pipe_cpu:.3f} s CPU")

    naive = naive_loop(d, naive_b, args.seed)
    naive_full = naive / naive_b * args.resamples
    boot = sum(v for k, v in timings.items() if k.startswith("bootstrap"))
    print()
    print(
        f"naive loop: {naive:.2f} s for {naive_b} resamples -> {naive_full:.1f} s "
        f"extrapolated to {args.resamples}"
    )
    print(f"speed-up, everything vs naive bootstrap:   {naive_full / wall:8.1f}x")
    print(f"speed-up, bootstrap part vs naive:         {naive_full / boot:8.1f}x")
    print(f"speed-up, harness pipeline vs naive:       {naive_full / pipe_wall:8.1f}x")
    print(f"peak RSS at exit: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
