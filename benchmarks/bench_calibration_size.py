"""Size of the paired ECE test and coverage of the ECE interval, by seeded simulation (issue 9, item 10).

Run ``python benchmarks/bench_calibration_size.py`` (``--reps 1000 --n 200 500 2000`` for more). Every
replicate draws a fresh binary data set, scores two models whose calibration errors are equal in
expectation, and runs ``harness.compare.compare`` with the ``ece`` metric; the printed rates should be near
0.05 (the test's nominal size), with the binomial standard error next to them. ``cover0`` is how often a
perfectly calibrated model's 95% interval covers the true calibration error 0 (nominal 0.95), and
``plug-in`` the same rates for the classic binned ECE with a plain paired bootstrap, as a baseline
measured in the same run.

Scenarios (y ~ Bernoulli(q) is shared by both models):

* ``oracle-vs-coarse``: A predicts q, B predicts q's fifth-bin midpoint — both perfectly calibrated;
* ``two-views``: q = sigmoid(1.5·z1 + 1.5·z2); A sees z1, B sees z2, each predicts E[q | its view] —
  both perfectly calibrated;
* ``equal-miscal``: the two views, each overconfident (logit × 1.6) — equal calibration errors;
* ``slight-miscal``: the two views, slightly overconfident (logit × 1.15) — equal, near the noise level.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.compare import CompareOptions, compare  # noqa: E402
from harness.metrics import MetricData  # noqa: E402
from harness.plugins import load_registry  # noqa: E402
from harness.stats.bootstrap import paired_test_from_draws  # noqa: E402
from harness.stats.calibration_boot import Calibration  # noqa: E402
from harness.stats.resample import resample_counts  # noqa: E402

_GH, _WG = np.polynomial.hermite_e.hermegauss(40)
_WG = _WG / _WG.sum()


def _view(z: np.ndarray, scale: float) -> np.ndarray:
    """E[sigmoid(1.5 z + 1.5 Z')] over Z' ~ N(0, 1), then sharpened by ``scale`` on the logit."""
    p = (1 / (1 + np.exp(-(1.5 * z[:, None] + 1.5 * _GH[None, :])))) @ _WG
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return 1 / (1 + np.exp(-scale * np.log(p / (1 - p))))


def scenario(name: str, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if name == "oracle-vs-coarse":
        q = rng.random(n)
        return (rng.random(n) < q).astype(int), q, (np.floor(q * 5) + 0.5) / 5
    z1, z2 = rng.normal(size=n), rng.normal(size=n)
    q = 1 / (1 + np.exp(-(1.5 * z1 + 1.5 * z2)))
    y = (rng.random(n) < q).astype(int)
    scale = {"two-views": 1.0, "equal-miscal": 1.6, "slight-miscal": 1.15}[name]
    return y, _view(z1, scale), _view(z2, scale)


def data(y: np.ndarray, p: np.ndarray) -> MetricData:
    proba = np.column_stack([1 - p, p])
    return MetricData(("neg", "pos"), y, proba.argmax(axis=1), proba, 1, {"ece_bins": 10})


def plug_in_test(y, pa, pb, b, seed) -> tuple[float, float, float]:
    def stat(p):
        proba = np.column_stack([1 - p, p])
        return Calibration(proba.max(axis=1), proba.argmax(axis=1) == y, 10)
    sa, sb = stat(pa), stat(pb)
    w = np.concatenate(list(resample_counts(y.size, b, seed)))
    one = np.ones((1, y.size))
    da, db = sa(w), sb(w)
    t = paired_test_from_draws(da, db, sa(one)[0], sb(one)[0])
    low, high = np.quantile(da, [0.025, 0.975])
    return t.p_value, low, high


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[200, 500])
    ap.add_argument("--reps", type=int, default=600)
    ap.add_argument("--resamples", type=int, default=200)
    args = ap.parse_args()
    ece = load_registry(entry_points=False).metrics["ece"]
    print(f"paired ECE test at alpha = 0.05, {args.reps} replicates, {args.resamples} resamples each")
    for n in args.n:
        for name in ("oracle-vs-coarse", "two-views", "equal-miscal", "slight-miscal"):
            t0 = time.perf_counter()
            rej = cover = rej_plug = cover_plug = 0
            for r in range(args.reps):
                rng = np.random.default_rng([77, n, r])
                y, pa, pb = scenario(name, rng, n)
                intervals, comp = compare({"a": data(y, pa), "b": data(y, pb)}, [ece], "b",
                                          CompareOptions(n_resamples=args.resamples, seed=r))
                rej += comp["pairs"][0]["metrics"]["ece"]["p_value"] < 0.05
                iv = intervals["a"]["ece"]
                cover += iv["low"] is not None and iv["low"] <= 0 <= iv["high"]
                p, low, high = plug_in_test(y, pa, pb, args.resamples, r)
                rej_plug += p < 0.05
                cover_plug += low <= 0 <= high
            se = np.sqrt(0.05 * 0.95 / args.reps)
            calibrated = name in ("oracle-vs-coarse", "two-views")
            extra = (f"  cover0 {cover / args.reps:.3f} (plug-in {cover_plug / args.reps:.3f})"
                     if calibrated else "")
            print(f"n={n:5d} {name:17s} size {rej / args.reps:.3f} ± {se:.3f} (plug-in "
                  f"{rej_plug / args.reps:.3f}){extra}  [{time.perf_counter() - t0:.1f} s]", flush=True)


if __name__ == "__main__":
    main()
