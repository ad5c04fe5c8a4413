"""Size and power of the paired ECE test, coverage of the ECE interval, by seeded simulation (issue 9, item 10).

Run ``python benchmarks/bench_calibration_size.py`` (defaults: 400 replicates, n = 200 500 2000, binary and
3-class; ``--reps 1000`` for the standard error 0.007; ``--before`` adds the previous construction — a
per-model bootstrap with a chi-square pretest, 200 resamples — measured on the same data; ``--power`` adds
pairs with different calibration errors). Every replicate draws a fresh data set from
``benchmarks/calibration_sim.py`` (two models whose true binned calibration errors are known exactly) and
runs ``harness.compare.compare`` with the ``ece`` metric, as a run does.

Printed per setting: the true ECEs of A and B; ``reject``: how often the paired test has p < 0.05 (its size
under equal true ECEs — it should lie in [0.03, 0.07] — or its power), with its binomial standard error;
``cover A``: how often A's 95% interval covers A's true ECE (nominal 0.95). Settings: both perfectly
calibrated (two views of the data, or the oracle against a view); both over-, both under-confident, one over-
and one under-confident (different views), and the same model made over- and under-confident, each with
true ECE 0.02 (about the noise level at n = 500-2000), 0.04 and 0.08 (clearly miscalibrated).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration_sim import null_settings, power_settings, world  # noqa: E402

from harness.compare import CompareOptions, compare  # noqa: E402
from harness.metrics import MetricData  # noqa: E402
from harness.plugins import load_registry  # noqa: E402
from harness.stats.bootstrap import interval_from_draws, paired_test_from_draws  # noqa: E402
from harness.stats.calibration_boot import DebiasedCalibration  # noqa: E402
from harness.stats.resample import resample_counts  # noqa: E402


def data(y: np.ndarray, p: np.ndarray) -> MetricData:
    labels = tuple(f"c{i}" for i in range(p.shape[1]))
    return MetricData(labels, y, p.argmax(axis=1), p, 1 if p.shape[1] == 2 else None, {"ece_bins": 10})


def before(y: np.ndarray, pa: np.ndarray, pb: np.ndarray, b: int, seed: int) -> tuple[float, float, float]:
    """The previous construction (per-model bootstrap draws, percentile test): (p, A's low, A's high)."""
    sa, sb = (DebiasedCalibration(p.max(axis=1), p.argmax(axis=1) == y, 10) for p in (pa, pb))
    w = np.concatenate(list(resample_counts(y.size, b, seed)))
    da, db = sa(w), sb(w)
    iv = interval_from_draws(da, sa.value)
    return paired_test_from_draws(da, db, sa.value, sb.value).p_value, iv.low, iv.high


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[200, 500, 2000])
    ap.add_argument("--classes", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--before", action="store_true", help="also measure the previous construction")
    ap.add_argument("--power", action="store_true", help="also pairs with different calibration errors")
    ap.add_argument("--only", default="", help="run the settings whose name contains this text")
    args = ap.parse_args()
    ece = load_registry(entry_points=False).metrics["ece"]
    se = np.sqrt(0.05 * 0.95 / args.reps)
    print(f"paired ECE test at alpha = 0.05: {args.reps} replicates per row (binomial SE of a size "
          f"{se:.3f}); reject should lie in [0.03, 0.07] under equal true ECE; cover A nominal 0.95")
    head = f"{'k':>1} {'n':>5} {'setting':30s} {'ECE A':>6} {'ECE B':>6} {'reject':>7} {'cover A':>7}"
    print(head + ("  before: reject cover A" if args.before else ""))
    for k in args.classes:
        w = world(k)
        settings = [("null", s) for s in null_settings(k)]
        if args.power:
            settings += [("power", s) for s in power_settings(k)]
        for kind, (name, pa, pb) in settings:
            if args.only not in name:
                continue
            ta, tb = np.sqrt(w.theta(pa)), np.sqrt(w.theta(pb))
            for n in args.n:
                t0 = time.perf_counter()
                rej = cover = rej0 = cover0 = 0
                for r in range(args.reps):
                    rng = np.random.default_rng([77, k, n, r, len(name)])
                    y, a, b = w.sample(rng, n, pa, pb)
                    intervals, comp = compare({"a": data(y, a), "b": data(y, b)}, [ece], "b",
                                              CompareOptions(n_resamples=200, seed=r))
                    rej += comp["pairs"][0]["metrics"]["ece"]["p_value"] < 0.05
                    iv = intervals["a"]["ece"]
                    cover += iv["low"] <= ta <= iv["high"]
                    if args.before:
                        p, low, high = before(y, a, b, 200, r)
                        rej0 += p < 0.05
                        cover0 += low <= ta <= high
                flag = "" if kind == "power" or 0.03 <= rej / args.reps <= 0.07 else " !"
                extra = f"  {rej0 / args.reps:14.3f} {cover0 / args.reps:7.3f}" if args.before else ""
                print(f"{k:1d} {n:5d} {name:30s} {ta:6.3f} {tb:6.3f} {rej / args.reps:7.3f} "
                      f"{cover / args.reps:7.3f}{extra}{flag}  [{time.perf_counter() - t0:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
