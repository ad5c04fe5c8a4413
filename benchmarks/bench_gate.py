"""How often the gate's defaults fail equally good models (false fails) and catch a real drop (power), beside
the naive rule `accuracy delta < -0.01`, through the real `harness gate` code path.

Run ``python benchmarks/bench_gate.py`` (``--sims 2000`` for tighter numbers, ``--quick`` for a smoke run).

Each simulated run is written as results.json + predictions.jsonl (benchmarks/gate_sim.py: the latent model of
issue 12) and judged by ``harness.runner.gate.gate`` — the function ``harness gate`` calls — with the
default rules (regression on accuracy and AUROC at margin 0, one-sided alpha 0.05, Holm across them, health
limits). A few runs are also put through the CLI itself (``harness gate DIR``) to check its exit code is the
same. Settings: the issue's (accuracy 0.85, load 0.6, n = 500 equal / n = 2,000 with a 3-point drop), then
other accuracies, correlations and sizes, with and without probabilities (without them only the accuracy
rule applies). The naive rule is judged on the same simulated runs.

Printed per setting: false-fail rate (equal models) or power (a true drop) of the defaults and of the naive
rule, with a 95% Monte Carlo interval, the ratio gate / naive, and the rates of the other rules issue 12
names: "any drop" (`delta < 0`), a band of ±20% of the reference (`candidate < 0.8 · reference`) and a
two-sided 95% interval entirely below -0.01 (Agresti-Min).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gate_sim import simulate, write_run  # noqa: E402

from harness.cli.main import main  # noqa: E402
from harness.plugins import load_registry  # noqa: E402
from harness.runner.gate import GateRequest, gate  # noqa: E402
from harness.stats.accuracy import agresti_min_interval  # noqa: E402

# (name, n, reference accuracy, candidate accuracy, load, probabilities)
ISSUE = [
    ("issue: equal, n=500", 500, 0.85, 0.85, 0.6, False),
    ("issue: 3-pt drop, n=2000", 2000, 0.85, 0.82, 0.6, False),
    ("issue + probabilities: equal, n=500", 500, 0.85, 0.85, 0.6, True),
    ("issue + probabilities: 3-pt drop, n=2000", 2000, 0.85, 0.82, 0.6, True),
]
OTHER = [
    ("equal, acc 0.70, load 0.3, n=200", 200, 0.70, 0.70, 0.3, True),
    ("equal, acc 0.95, load 0.9, n=1000", 1000, 0.95, 0.95, 0.9, False),
    ("equal, acc 0.60, load 0.0, n=100", 100, 0.60, 0.60, 0.0, False),
    ("equal, acc 0.90, load 0.6, n=5000", 5000, 0.90, 0.90, 0.6, False),
    ("3-pt drop, acc 0.70, load 0.3, n=3000", 3000, 0.70, 0.67, 0.3, False),
    ("3-pt drop, acc 0.95, load 0.9, n=1000", 1000, 0.95, 0.92, 0.9, False),
    ("5-pt drop, acc 0.80, load 0.6, n=1000", 1000, 0.80, 0.75, 0.6, True),
]


def interval(k: int, n: int) -> str:
    p = k / n
    half = 1.96 * math.sqrt(max(p * (1 - p), 1e-12) / n)
    return f"{p:6.3f} [{max(0.0, p - half):.3f}, {min(1.0, p + half):.3f}]"


def run_setting(setting: tuple, sims: int, seed: int, folder: Path, registry) -> dict:
    name, n, acc_ref, acc_cand, load, probs = setting
    rng = np.random.default_rng(seed)
    gate_fail = naive_fail = inconclusive = 0
    others = {"any drop": 0, "band 20%": 0, "CI95<-0.01": 0}
    start = time.perf_counter()
    for _ in range(sims):
        sim = simulate(rng, n, acc_ref, acc_cand, load)
        run = write_run(folder, sim, probabilities=probs)
        verdict = gate(GateRequest(run), registry)
        code = verdict.exit_code
        if code not in (0, 4):
            raise SystemExit(f"{name}: unexpected exit code {code}: {verdict.summary()}")
        gate_fail += code == 4
        inconclusive += any(a.verdict == "inconclusive" for a in verdict.assessments)
        right_c, right_r = sim["pred_candidate"] == sim["gold"], sim["pred_reference"] == sim["gold"]
        delta = np.mean(right_c) - np.mean(right_r)
        naive_fail += delta < -0.01
        others["any drop"] += delta < 0
        others["band 20%"] += np.mean(right_c) < 0.8 * np.mean(right_r)
        others["CI95<-0.01"] += agresti_min_interval(right_c, right_r, 0.05)[1] < -0.01
    return {"name": name, "equal": acc_ref == acc_cand, "sims": sims, "gate": gate_fail, "naive": naive_fail,
            "inconclusive": inconclusive, "others": others, "seconds": time.perf_counter() - start}


def table_size(n: int, acc: float, load: float, tables: int, seed: int) -> float:
    """The false-fail rate of the accuracy rule's decision (the Agresti-Min one-sided upper bound below 0) on
    ``tables`` paired 2x2 tables of equally good models, drawn from their exact cell probabilities: far more
    runs than the file-level simulation can afford, to show the size is alpha up to Monte Carlo noise."""
    from scipy.stats import multivariate_normal, norm

    from harness.stats.accuracy import _agresti_min

    t, r = norm.ppf(1.0 - acc), load * load
    both = multivariate_normal(mean=[0, 0], cov=[[1, r], [r, 1]]).cdf([-t, -t])
    cells = [both, acc - both, acc - both, 1 - 2 * acc + both]
    drawn = np.random.default_rng(seed).multinomial(n, cells, size=tables)
    unique, counts = np.unique(drawn, axis=0, return_counts=True)
    fails = sum(c for row, c in zip(unique, counts) if _agresti_min(*map(int, row), 0.10)[1] < 0)
    return fails / tables


def cli_agrees(folder: Path, registry, checks: int, seed: int) -> int:
    """Put a few runs through `harness gate DIR` too: the exit code must be the code path's."""
    rng = np.random.default_rng(seed)
    for i in range(checks):
        sim = simulate(rng, 400, 0.85, 0.80 if i % 2 else 0.85, 0.6)
        run = write_run(folder, sim, probabilities=bool(i % 3))
        expected = gate(GateRequest(run), registry).exit_code
        with contextlib.redirect_stdout(io.StringIO()):
            got = main(["gate", str(run), "--json", str(folder / "verdict.json")])
        if got != expected:
            raise SystemExit(f"harness gate exited {got}, the code path said {expected}")
    return checks


def main_(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=1000, help="simulated runs per setting (default 1000)")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--quick", action="store_true", help="200 runs per setting, the issue's settings only")
    args = ap.parse_args(argv)
    sims = 200 if args.quick else args.sims
    settings = ISSUE if args.quick else ISSUE + OTHER
    registry = load_registry(entry_points=False)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        checked = cli_agrees(folder, registry, 6, args.seed)
        print(f"`harness gate DIR` exit codes agree with the code path on {checked} runs\n")
        print(f"{'setting':44s} {'rate':5s} {'defaults (95% MC interval)':27s} {'naive delta<-0.01':27s} "
              f"{'gate/naive':>10s} {'inconcl.':>8s} {'any drop':>8s} {'band 20%':>8s} {'CI95<-.01':>9s} "
              f"{'s/run':>6s}")
        for i, setting in enumerate(settings):
            r = run_setting(setting, sims, args.seed + i, folder, registry)
            what = "false" if r["equal"] else "power"
            ratio = f"{r['gate'] / r['naive']:.2f}" if r["naive"] else "n/a"
            print(f"{r['name']:44s} {what:5s} {interval(r['gate'], sims):27s} {interval(r['naive'], sims):27s} "
                  f"{ratio:>10s} {r['inconclusive'] / sims:8.3f} {r['others']['any drop'] / sims:8.3f} "
                  f"{r['others']['band 20%'] / sims:8.3f} {r['others']['CI95<-0.01'] / sims:9.3f} "
                  f"{r['seconds'] / sims:6.3f}", flush=True)
    print("\nThe accuracy rule's test alone, on 200,000 paired tables of equally good models per setting (its size "
          "up to Monte Carlo noise of +-0.001):")
    for n, acc, load in ((500, 0.85, 0.6), (100, 0.60, 0.0), (1000, 0.95, 0.9), (5000, 0.90, 0.6)):
        print(f"  n={n:5d} accuracy {acc:.2f} load {load:.1f}: false-fail rate "
              f"{table_size(n, acc, load, 200_000, args.seed):.4f}")
    print("\nfalse = false-fail rate on equally good models (target <= 0.05); power = share of runs that fail "
          "on a true drop (target >= 0.80 for the issue's 3-point drop at n = 2,000). inconcl. = share of runs "
          "with an inconclusive rule (they pass with a warning; --strict would fail them).")


if __name__ == "__main__":
    main_()
