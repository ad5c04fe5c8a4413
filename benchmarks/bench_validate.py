"""What the data checks cost a run: ``harness validate`` (every check, with two OpenAI models' tokenizers and
context windows) against reading the held-out file the way a run does, on the same generated suite.

    python benchmarks/bench_validate.py              # 50,000 held-out and 50,000 training rows
    python benchmarks/bench_validate.py --n 10000    # quicker

Both are timed in the same run, alternating for ``--rounds`` rounds (median), so other load on the machine
affects both alike. Prints seconds per 10,000 held-out rows and the ratio validate / read; the checks read
the held-out and the training file and tokenize every held-out prompt once per model, so a ratio of a few
times one read is expected.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

SEP = "\n\n###\n\n"
WORDS = ("the pitcher threw a curveball goalie saved the puck inning power play overtime bullpen "
         "faceoff shortstop penalty rebound home run icing walk-off slapshot").split()


def write_suite(root: Path, n: int, seed: int = 0) -> Path:
    rng = random.Random(seed)

    def rows(k: int, tag: str) -> str:
        return "".join(json.dumps({"prompt": " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60)))
                                   + f" {tag}{i}{SEP}", "completion": " " + ("baseball", "hockey")[i % 2]}) + "\n"
                       for i in range(k))

    (root / "heldout.jsonl").write_text(rows(n, "h"), encoding="utf-8")
    (root / "train.jsonl").write_text(rows(n, "t"), encoding="utf-8")
    (root / "suite.yaml").write_text("data: {heldout: heldout.jsonl, train: train.jsonl}\nlabels: [baseball, hockey]\n",
                                     encoding="utf-8")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from harness.plugins import load_registry
    from harness.suite import load_suite
    from harness.suite.datasets import load_dataset
    from harness.validation import validate

    registry = load_registry(entry_points=False)
    models = ["chat=openai:gpt-4o-mini", "ft=openai-completions:babbage-002"]
    with tempfile.TemporaryDirectory() as tmp:
        root = write_suite(Path(tmp), args.n)
        validate(root, models, registry=registry)  # warm-up: imports, encodings
        reads, checks = [], []
        for _ in range(args.rounds):
            t = time.perf_counter()
            load_dataset(load_suite(root), "heldout")
            reads.append(time.perf_counter() - t)
            t = time.perf_counter()
            v = validate(root, models, registry=registry)
            checks.append(time.perf_counter() - t)
        read, check = statistics.median(reads), statistics.median(checks)
    per = 10_000 / args.n
    print(f"{args.n:,} held-out + {args.n:,} training rows, 2 models, median of {args.rounds} rounds")
    print(f"read the held-out file (a run's loader): {read * per:.2f} s per 10,000 rows")
    print(f"harness validate, every check:           {check * per:.2f} s per 10,000 rows "
          f"({len(v.findings)} findings)")
    print(f"ratio validate / read: {check / read:.1f}x")


if __name__ == "__main__":
    main()
