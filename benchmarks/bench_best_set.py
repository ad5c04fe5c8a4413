"""Does the best set hold the truly best checkpoint? Simulated checkpoint comparisons with known true
accuracies (benchmarks/best_set_sim.py), through the code path a run uses, at the default alpha = 0.05.

Prints, per setting (number of models, gaps between them, held-out size n, correlation of the models'
errors through the shared latent ``load``): how often the set holds a truly best model, how often it holds
every truly best model (different only when several tie), and the set's average size (smaller is more
useful). One command: ``python benchmarks/bench_best_set.py [RUNS]`` (default 400 runs per setting).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from best_set_sim import run, settings  # noqa: E402


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    print(f"best set (MCB on paired bootstrap draws, 1000 resamples), alpha = 0.05, {runs} runs per setting")
    print(f"{'setting':48s} {'k':>3s} {'holds best':>10s} {'holds all best':>14s} {'mean size':>9s} {'s/run':>6s}")
    for s in settings():
        t0 = time.perf_counter()
        out = run(s, runs, seed=2024)
        per = (time.perf_counter() - t0) / runs
        print(f"{s.name:48s} {len(s.accuracies):3d} {out.coverage:10.3f} {out.coverage_all:14.3f} "
              f"{out.mean_size:9.2f} {per:6.3f}")


if __name__ == "__main__":
    main()
