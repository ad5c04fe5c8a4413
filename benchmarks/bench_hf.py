"""Throughput and peak memory of the ``hf`` provider on the CPU, against a naive one-example-at-a-time loop.

Run ``python benchmarks/bench_hf.py`` (needs torch and the hf extra; ``--n``, ``--hidden``, ``--layers``,
``--batch-size``). A small Llama-style model (random weights) and a byte-level BPE tokenizer trained locally
are saved to a temporary folder — nothing is downloaded. Two label sets are timed:

* single-token labels (``False`` / ``France``): the provider's batched forward passes keep the logits of the
  last position only; the naive loop runs one forward pass per example and takes the softmax of the last
  position's logits (every position's logits computed, as ``model(ids).logits`` does);
* multi-token labels (``New York`` / ``Boston`` / ``negative`` / ``neutral``): the provider scores every spelling
  of every label in left-padded batches; the naive loop runs one forward pass per example and spelling.

Each side runs in its own child process, so its peak resident memory (``ru_maxrss``) is its own; both load the
same saved model, and the two sides' probabilities are checked to agree on the examples both scored (max
|difference| printed; the naive loop scores the first ``--naive-n`` examples, its rate is per example). The sides
run ``--rounds`` times, interleaved, and the fastest run of each counts (the machine is shared: other work slows
some runs down). The ratio is provider examples/s over naive examples/s, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "hf"))  # tinylm: the tiny-model builder the tests use

SEP = "\n\n###\n\n"
LABEL_SETS = {"single-token": ("False", "France"), "multi-token": ("New York", "Boston", "negative", "neutral")}


def make_texts(n: int, seed: int) -> list[str]:
    import tinylm

    words = " ".join(tinylm.SENTENCES).split()
    rng = random.Random(seed)
    return [" ".join(rng.choice(words) for _ in range(rng.randint(8, 90))) for _ in range(n)]


def write_suite(root: Path, texts: list[str], labels: tuple[str, ...]) -> Path:
    import yaml

    root.mkdir(parents=True, exist_ok=True)
    with (root / "heldout.jsonl").open("w") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": f"e{i}", "prompt": t + SEP, "completion": " " + labels[i % len(labels)]}) + "\n")
    (root / "suite.yaml").write_text(yaml.safe_dump({"name": root.name, "labels": list(labels), "data": {
        "heldout": "heldout.jsonl", "format": "openai-jsonl"}}))
    return root


def child(args: argparse.Namespace) -> None:
    """One side, timed in this process; prints a JSON line."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    from harness.plugins import load_registry
    from harness.providers import ModelSpec
    from harness.suite import load_suite

    suite = load_suite(Path(args.suite))
    examples = suite.heldout.examples[:args.limit] if args.limit else suite.heldout.examples
    labels = tuple(suite.labels)
    lm = AutoModelForCausalLM.from_pretrained(args.model, local_files_only=True, dtype=torch.float32).eval()
    probs: list[dict[str, float]] = []
    if args.child == "harness":
        spec = ModelSpec("m", "hf", args.model, {"batch_size": args.batch_size, "device": "cpu"})
        model = load_registry(entry_points=False).providers["hf"].resolve(spec, suite).models[0]
        model.score_with(lm, examples[:8])  # warm-up
        t0 = time.perf_counter()
        preds = model.score_with(lm, examples)
        seconds = time.perf_counter() - t0
        probs = [p.probs for p in preds]
    else:
        tok = AutoTokenizer.from_pretrained(args.model, local_files_only=True)

        def naive(ex) -> dict[str, float]:
            p_ids = tok(ex.prompt)["input_ids"]
            mass = {}
            for lab in labels:
                total = 0.0
                for s in (lab, " " + lab):
                    cont = tok(ex.prompt + s)["input_ids"][len(p_ids):]
                    with torch.inference_mode():
                        if len(cont) == 1 and args.set == "single-token":
                            lp = torch.log_softmax(lm(torch.tensor([p_ids])).logits[0, -1].float(), -1)
                            total += math.exp(float(lp[cont[0]]))
                            continue
                        lp = torch.log_softmax(lm(torch.tensor([p_ids + cont])).logits[0].float(), -1)
                    total += math.exp(sum(float(lp[len(p_ids) - 1 + j, t]) for j, t in enumerate(cont)))
                mass[lab] = total
            z = sum(mass.values())
            return {lab: m / z for lab, m in mass.items()}

        for ex in examples[:8]:  # warm-up
            naive(ex)
        t0 = time.perf_counter()
        if args.set == "single-token":  # one forward pass per example, whole-vocabulary softmax
            for ex in examples:
                p_ids = tok(ex.prompt)["input_ids"]
                with torch.inference_mode():
                    dist = torch.softmax(lm(torch.tensor([p_ids])).logits[0, -1].float(), -1)
                mass = {lab: sum(float(dist[tok(ex.prompt + s)["input_ids"][len(p_ids)]]) for s in (lab, " " + lab))
                        for lab in labels}
                z = sum(mass.values())
                probs.append({lab: m / z for lab, m in mass.items()})
        else:
            probs = [naive(ex) for ex in examples]
        seconds = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "n": len(examples), "rss_mb": rss_mb, "probs": probs}))


def run_child(side: str, model: Path, suite: Path, label_set: str, batch_size: int, limit: int = 0) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", side, "--model", str(model), "--suite", str(suite),
                          "--set", label_set, "--batch-size", str(batch_size), "--limit", str(limit)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=64, help="held-out examples")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each side, interleaved; the best counts")
    ap.add_argument("--naive-n", type=int, default=16, help="examples the (slow) naive loop scores; its rate is "
                    "per example, compared on those examples")
    ap.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--vocab", type=int, default=32000, help="the model's vocabulary (the output layer's width, "
                    "as in a Llama 2 / Mistral model; the tokenizer uses its first ids)")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", choices=["harness", "naive"], help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--suite", help=argparse.SUPPRESS)
    ap.add_argument("--set", choices=list(LABEL_SETS), default="single-token", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return

    import tinylm
    import torch

    from harness_plugins.providers.hf.loading import quiet_transformers

    quiet_transformers()
    with tempfile.TemporaryDirectory() as tmp:
        tok = tinylm.make_tokenizer()
        model = tinylm.make_model(max(args.vocab, len(tok)), seed=args.seed, hidden=args.hidden, layers=args.layers)
        folder = tinylm.save(model, tok, Path(tmp) / "model")
        n_params = sum(p.numel() for p in model.parameters())
        texts = make_texts(args.n, args.seed)
        print(f"hf provider on the CPU: {args.n} examples, prompts of 8-90 words, a Llama-style model with "
              f"{n_params / 1e6:.1f}M parameters (vocabulary {max(args.vocab, len(tok))}, hidden {args.hidden}, "
              f"{args.layers} layers), torch "
              f"{torch.__version__}, {torch.get_num_threads()} threads, batch_size {args.batch_size}")
        print(f"{'labels':<14}{'provider ex/s':>15}{'naive ex/s':>12}{'ratio':>8}{'provider MB':>13}"
              f"{'naive MB':>10}{'max |dp|':>10}")
        for name, labels in LABEL_SETS.items():
            suite = write_suite(Path(tmp) / name, texts, labels)
            runs: dict[str, list[dict]] = {"harness": [], "naive": []}
            for _ in range(args.rounds):  # interleaved, best of each side: a shared machine's load evens out
                for side in runs:
                    limit = args.naive_n if side == "naive" else 0
                    runs[side].append(run_child(side, folder, suite, name, args.batch_size, limit))
            ours, base = (min(runs[s], key=lambda r: r["seconds"]) for s in ("harness", "naive"))
            diff = max(abs(a[k] - b[k]) for a, b in zip(ours["probs"], base["probs"]) for k in a)
            rate, naive_rate = ours["n"] / ours["seconds"], base["n"] / base["seconds"]
            rss = {s: max(r["rss_mb"] for r in runs[s]) for s in runs}
            print(f"{name:<14}{rate:>15.1f}{naive_rate:>12.1f}{rate / naive_rate:>7.2f}x{rss['harness']:>13.0f}"
                  f"{rss['naive']:>10.0f}{diff:>10.1e}")


if __name__ == "__main__":
    main()
