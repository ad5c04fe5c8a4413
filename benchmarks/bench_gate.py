"""How often the gate's defaults fail equally good models (false fails) and catch a real drop (power), beside
the naive rule `accuracy delta < -0.01`, through the real `harness gate` code path.

Run ``python benchmarks/bench_gate.py`` (2,000 runs per setting; ``--sims N``, ``--only TEXT`` for some
settings, ``--alpha A`` to judge the default rules at another alpha, ``--quick`` for a smoke run).

Each simulated run is written as results.json + predictions.jsonl (benchmarks/gate_sim.py: the latent model of
issue 12) and judged by ``harness.runner.gate.gate`` — the function ``harness gate`` calls — with the
default rules (regression on accuracy and, with probabilities, AUROC at margin 0, one-sided alpha 0.04, Holm
across them, health limits). A few runs are also put through the CLI itself (``harness gate DIR``) to check
its exit code is the same. Settings: the issue's (accuracy 0.85, load 0.6, n = 500 equal / n = 2,000 with a
3-point drop), then other accuracies (0.6-0.95), correlations (load 0-0.9) and sizes (n = 100-5,000), with
and without probabilities (without them only the accuracy rule applies). The naive rule is judged on the
same simulated runs.

Printed per setting: the correlation of the two models' right/wrong outcomes; the false-fail rate (equal
models) or power (a true drop) of the defaults, with a 95% Monte Carlo interval; the accuracy rule's decision
alone summed exactly over every paired table (no Monte Carlo noise), now and with the Agresti-Min bound at
0.05 the gate used before; the naive rule's rate; and the rates of the other rules issue 12 names: "any drop"
(`delta < 0`), a band of ±20% of the reference (`candidate < 0.8 · reference`) and a two-sided 95% interval
entirely below -0.01 (Agresti-Min).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gate_sim import cell_probabilities, exact_accuracy_rates, simulate, write_run  # noqa: E402
from scipy.stats import norm  # noqa: E402

from harness.analysis.gate.bounds import paired_binary_limits  # noqa: E402
from harness.cli.main import main  # noqa: E402
from harness.plugins import load_registry  # noqa: E402
from harness.runner.gate import GateRequest, gate  # noqa: E402
from harness.stats.accuracy import agresti_min_interval  # noqa: E402
from harness.suite.rules import default_rules  # noqa: E402

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
    ("equal, acc 0.60, load 0.0, n=5000", 5000, 0.60, 0.60, 0.0, True),
    ("equal, acc 0.75, load 0.9, n=2000", 2000, 0.75, 0.75, 0.9, True),
    ("3-pt drop, acc 0.70, load 0.3, n=3000", 3000, 0.70, 0.67, 0.3, False),
    ("3-pt drop, acc 0.95, load 0.9, n=1000", 1000, 0.95, 0.92, 0.9, False),
    ("5-pt drop, acc 0.80, load 0.6, n=1000", 1000, 0.80, 0.75, 0.6, True),
    ("3-pt drop, acc 0.60, load 0.0, n=5000", 5000, 0.60, 0.57, 0.0, True),
    ("2-pt drop, acc 0.90, load 0.6, n=5000", 5000, 0.90, 0.88, 0.6, False),
]


def interval(k: int, n: int) -> str:
    p = k / n
    half = 1.96 * math.sqrt(max(p * (1 - p), 1e-12) / n)
    return f"{p:6.3f} [{max(0.0, p - half):.3f}, {min(1.0, p + half):.3f}]"


def run_setting(setting: tuple, sims: int, seed: int, folder: Path, registry, rules: Path | None) -> dict:
    name, n, acc_ref, acc_cand, load, probs = setting
    rng = np.random.default_rng(seed)
    gate_fail = naive_fail = inconclusive = 0
    others = {"any drop": 0, "band 20%": 0, "CI95<-0.01": 0}
    start = time.perf_counter()
    for _ in range(sims):
        sim = simulate(rng, n, acc_ref, acc_cand, load)
        run = write_run(folder, sim, probabilities=probs)
        verdict = gate(GateRequest(run, rules=rules), registry)
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


def exact_rates(n: int, acc_ref: float, acc_cand: float, load: float, alpha: float) -> tuple[float, float, float]:
    """The accuracy rule's decision alone, summed exactly over every paired table (no Monte Carlo noise):
    (share of runs it fails with the gate's construction at ``alpha``, the same for the Agresti-Min bound the
    gate used before at 0.05, the correlation of the two models' right/wrong outcomes)."""
    z = float(norm.ppf(0.95))

    def now(x: np.ndarray, y: np.ndarray, m: int) -> np.ndarray:
        return paired_binary_limits(x, y, m, alpha)[1] < 0

    def before(x: np.ndarray, y: np.ndarray, m: int) -> np.ndarray:
        p12, p21 = (x + 0.5) / (m + 2), (y + 0.5) / (m + 2)  # Agresti-Min, candidate - reference
        diff = p12 - p21
        return diff + z * np.sqrt(np.maximum(p12 + p21 - diff * diff, 0) / (m + 2)) < 0

    return (exact_accuracy_rates(n, acc_ref, acc_cand, load, now),
            exact_accuracy_rates(n, acc_ref, acc_cand, load, before),
            cell_probabilities(acc_cand, acc_ref, load)["correlation"])


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


def rules_with_alpha(folder: Path, alpha: float) -> Path:
    """The default rules at another alpha (``--alpha``), as a rules file."""
    text = (Path(__file__).resolve().parents[1] / "harness" / "data" / "gate-defaults.yaml").read_text("utf-8")
    path = folder / "rules.yaml"
    path.write_text(re.sub(r"(?m)^alpha: *[0-9.]+", f"alpha: {alpha}", text), encoding="utf-8")
    return path


def main_(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=2000, help="simulated runs per setting (default 2000)")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--alpha", type=float, default=None, help="judge the default rules at this alpha instead")
    ap.add_argument("--only", default=None, help="only the settings whose name contains this text")
    ap.add_argument("--quick", action="store_true", help="200 runs per setting, the issue's settings only")
    args = ap.parse_args(argv)
    sims = 200 if args.quick else args.sims
    settings = ISSUE if args.quick else ISSUE + OTHER
    settings = [s for s in settings if args.only is None or args.only in s[0]]
    registry = load_registry(entry_points=False)
    alpha = args.alpha if args.alpha is not None else float(default_rules().section.alpha)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        rules = rules_with_alpha(Path(tmp), args.alpha) if args.alpha is not None else None
        checked = cli_agrees(folder, registry, 6, args.seed)
        print(f"`harness gate DIR` exit codes agree with the code path on {checked} runs")
        print(f"default rules at one-sided alpha {alpha:g}; {sims} simulated runs per setting\n")
        print(f"{'setting':42s} {'corr':>5s} {'rate':5s} {'defaults (95% MC interval)':27s} "
              f"{'exact acc':>9s} {'before':>7s} {'naive delta<-0.01':27s} {'inconcl.':>8s} {'any drop':>8s} "
              f"{'band 20%':>8s} {'CI95<-.01':>9s} {'s/run':>6s}")
        for i, setting in enumerate(settings):
            _, n, acc_ref, acc_cand, load, _ = setting
            now, before, corr = exact_rates(n, acc_ref, acc_cand, load, alpha)
            r = run_setting(setting, sims, args.seed + i, folder, registry, rules)
            what = "false" if r["equal"] else "power"
            print(f"{r['name']:42s} {corr:5.2f} {what:5s} {interval(r['gate'], sims):27s} {now:9.4f} "
                  f"{before:7.4f} {interval(r['naive'], sims):27s} {r['inconclusive'] / sims:8.3f} "
                  f"{r['others']['any drop'] / sims:8.3f} {r['others']['band 20%'] / sims:8.3f} "
                  f"{r['others']['CI95<-0.01'] / sims:9.3f} {r['seconds'] / sims:6.3f}", flush=True)
    print("\nfalse = false-fail rate on equally good models (target: clearly <= 0.05); power = share of runs that "
          "fail on a true drop (target >= 0.80 for the issue's 3-point drop at n = 2,000). corr = correlation of "
          "the two models' right/wrong outcomes. exact acc = the accuracy rule's decision alone, summed exactly over "
          "every paired table (exact conditional McNemar bound); before = the same for the Agresti-Min bound at "
          "0.05 the gate used before. inconcl. = share of runs with an inconclusive rule (they pass with a warning; "
          "--strict would fail them).")


if __name__ == "__main__":
    main_()
