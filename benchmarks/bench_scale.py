"""Wall time and peak memory of ``harness run`` as users run it (a subprocess, cold imports) at 10k / 100k / 1M
held-out examples: 2 models from the ``predictions`` provider, every metric, statistics and the report on.

    python benchmarks/bench_scale.py                        # 10,000 / 100,000 / 1,000,000 examples
    python benchmarks/bench_scale.py --sizes 10000 100000   # quicker
    python benchmarks/bench_scale.py --baseline /path/to/other/.venv/bin/harness

Prints, per size, the wall time and the peak resident memory of the ``harness run`` process (``wait4``'s
``ru_maxrss``), and the growth exponent ``b`` of ``time ~ n^b`` and ``memory ~ n^b`` fitted by least squares on
log-log (1 is linear). With ``--baseline HARNESS`` (another installation's ``harness`` script, e.g. a
``git worktree`` of the release before, installed in its own venv) the same runs are made with it, alternating
with this one's for ``--rounds`` rounds (median, and the range), and the ratio baseline / this is printed
beside the targets at the largest size: peak memory <= 2.5 GB, at least 2x faster than the baseline.

The generated suite is binary (labels ``neg``, ``pos``); each model's predictions file holds one row per
example with a label and both probabilities at full float precision, as a model's exporter writes them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("the pitcher threw a curveball goalie saved the puck inning power play overtime bullpen "
         "faceoff shortstop penalty rebound home run icing walk-off slapshot").split()
SEP = "\n\n###\n\n"
TARGET_GB = 2.5
TARGET_SPEEDUP = 2.0


def write_suite(root: Path, n: int, seed: int = 0) -> Path:
    """A binary suite of ``n`` held-out examples and two models' predictions files (``base`` weaker than
    ``ft``), written with a fixed seed so every size and both installations see the same data."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    with (root / "heldout.jsonl").open("w", encoding="utf-8") as held, \
            (root / "base.jsonl").open("w", encoding="utf-8") as base, \
            (root / "ft.jsonl").open("w", encoding="utf-8") as ft:
        for i in range(n):
            gold = i % 2
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20)))
            held.write(json.dumps({"id": f"ex{i:07d}", "prompt": f"{words} #{i}{SEP}",
                                   "completion": " " + ("neg", "pos")[gold]}) + "\n")
            for fh, skill in ((base, 0.9), (ft, 1.6)):
                z = skill * (1 if gold else -1) + rng.gauss(0, 1.2)
                p = 1 / (1 + math.exp(-z))
                fh.write(json.dumps({"id": f"ex{i:07d}", "label": "pos" if p > 0.5 else "neg",
                                     "probs": {"neg": 1 - p, "pos": p}}) + "\n")
    (root / "suite.yaml").write_text(
        "name: scale\ndata: {heldout: heldout.jsonl, format: openai-jsonl}\nlabels: [neg, pos]\npositive: pos\n"
        "models:\n  base: predictions:base.jsonl\n  ft: predictions:ft.jsonl\nbaseline: base\n", encoding="utf-8")
    return root


def measure(harness: str, suite: Path, out: Path, extra: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in GB) of one ``harness run`` subprocess."""
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, HARNESS_PROGRESS="off")
    t0 = time.perf_counter()
    proc = subprocess.Popen([harness, "run", str(suite), "--out", str(out), "--no-cache", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""  # type: ignore[union-attr]
    if proc.returncode != 0:
        raise SystemExit(f"{harness} run failed (exit {proc.returncode}): {err.strip()[-2000:]}")
    return wall, usage.ru_maxrss / 1024 / 1024  # KiB -> GiB


def fit_exponent(sizes: list[int], values: list[float]) -> float:
    """b of values ~ a * sizes^b, least squares on log-log."""
    xs, ys = [math.log(s) for s in sizes], [math.log(max(v, 1e-9)) for v in values]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else float("nan")


def median(xs: list[float]) -> float:
    s = sorted(xs)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--rounds", type=int, default=1, help="runs per size and installation (median; default 1)")
    ap.add_argument("--harness", default=str(Path(sys.executable).with_name("harness")),
                    help="the harness script measured (default: the one beside this Python)")
    ap.add_argument("--baseline", help="another installation's harness script, measured alternately")
    ap.add_argument("--no-report", action="store_true", help="pass --no-report (default: the report is on)")
    ap.add_argument("--keep", type=Path, help="keep the generated suites and outputs in this folder")
    args = ap.parse_args()
    extra = ["--no-report"] if args.no_report else []
    sides = [("this", args.harness)] + ([("baseline", args.baseline)] if args.baseline else [])
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-")) if args.keep is None else args.keep
    tmp.mkdir(parents=True, exist_ok=True)
    table: dict[tuple[str, int], tuple[list[float], list[float]]] = {}
    try:
        for n in args.sizes:
            suite = write_suite(tmp / f"suite-{n}", n)
            for r in range(args.rounds):
                order = sides if r % 2 == 0 else sides[::-1]  # interleaved: machine load hits both alike
                for name, exe in order:
                    wall, gb = measure(exe, suite, tmp / f"out-{name}-{n}", extra)
                    walls, mems = table.setdefault((name, n), ([], []))
                    walls.append(wall)
                    mems.append(gb)
                    print(f"  n={n:>9,} {name:>8s} round {r + 1}: {wall:7.2f} s, peak {gb:5.2f} GB", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"{'examples':>10s} {'side':>8s} {'wall s (median, range)':>26s} {'peak GB':>8s}")
    for n in args.sizes:
        for name, _ in sides:
            walls, mems = table[(name, n)]
            print(f"{n:>10,} {name:>8s} {median(walls):9.2f} ({min(walls):.2f}-{max(walls):.2f}) "
                  f"{max(mems):8.2f}")
    for name, _ in sides:
        if len(args.sizes) > 1:
            walls = [median(table[(name, n)][0]) for n in args.sizes]
            mems = [max(table[(name, n)][1]) for n in args.sizes]
            print(f"growth exponent ({name}): time ~ n^{fit_exponent(args.sizes, walls):.2f}, "
                  f"memory ~ n^{fit_exponent(args.sizes, mems):.2f}")
    top = max(args.sizes)
    walls, mems = table[("this", top)]
    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    print(f"peak memory at n={top:,}: {max(mems):.2f} GB (target <= {TARGET_GB} GB) {ok(max(mems) <= TARGET_GB)}")
    if args.baseline:
        base_walls = table[("baseline", top)][0]
        speedups = [b / t for b, t in zip(base_walls, walls)]
        print(f"speed-up at n={top:,}: baseline / this = {median(speedups):.2f} (range {min(speedups):.2f}-"
              f"{max(speedups):.2f} over {len(speedups)} round(s); target >= {TARGET_SPEEDUP}) "
              f"{ok(median(speedups) >= TARGET_SPEEDUP)}")


if __name__ == "__main__":
    main()
