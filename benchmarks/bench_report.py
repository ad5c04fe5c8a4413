"""Size and render time of the HTML report at 1k / 10k / 100k held-out examples with 5 binary models
(simulated predictions and example texts of about 200 characters), against the page's 5 MB budget.

The page embeds everything (no network), so it samples what grows with n: at most 600 disagreements (an equal
share of the candidate's broken, fixed and other disagreements, the most confident first), 5 most confident
errors per model, curves decimated to 1,500 points; confusion matrices, per-class scores, reliability bins
and operating points are summaries of every example. One command: ``python benchmarks/bench_report.py
[N ...]``; the Markdown summary is timed too.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness_reports import render_html  # noqa: E402
from harness_reports.markdown import render_markdown  # noqa: E402

LABELS = ("neg", "pos")
MODELS = ("base", "ckpt-1", "ckpt-2", "ckpt-3", "final")
WORDS = "the a puck ball goal inning pitcher skate ice bat score team fans game season rink field".split()


def simulate(n: int, seed: int = 0) -> tuple[dict, list[dict], dict[str, str]]:
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 2, n)
    z = rng.standard_normal(n)
    ids = [f"ex-{i:07d}" for i in range(n)]
    words = np.array(WORDS)
    texts = {i: " ".join(words[rng.integers(0, len(words), 36)]) for i in ids}
    preds, models = [], []
    for k, name in enumerate(MODELS):
        margin = 0.6 * z + 0.8 * rng.standard_normal(n) + 0.8 + 0.25 * k
        p_right = 1 / (1 + np.exp(-1.7 * margin))
        right = p_right > 0.5
        p_pos = np.where(gold == 1, p_right, 1 - p_right)
        pred = np.where(right, gold, 1 - gold)
        for i in range(n):
            preds.append({"model": name, "id": ids[i], "gold": LABELS[gold[i]], "pred": LABELS[pred[i]],
                          "status": "ok", "probs": {"neg": float(1 - p_pos[i]), "pos": float(p_pos[i])}})
        acc = float(right.mean())
        models.append({"name": name, "spec": f"predictions:{name}.jsonl", "provider": "predictions",
                       "info": {"role": "base" if k == 0 else "checkpoint", "epoch": k, "step": 10 * k},
                       "counts": {"n": n, "ok": n, "invalid": 0, "failed": 0, "flagged": 0},
                       "metrics": {"accuracy": {"value": acc, "n": n}}})
    pairs = [{"a": m, "b": "base", "n": n, "discordant": {"a_only": 1, "b_only": 1}, "mde_accuracy": 0.01,
              "metrics": {"accuracy": {"n": n, "value_a": 0.8, "value_b": 0.7, "delta": 0.1, "low": 0.05,
                                       "high": 0.15, "p_value": 0.001, "p_adjusted": 0.004,
                                       "method": "mcnemar-midp / agresti-min", "reason": None}}}
             for m in MODELS[1:]]
    results = {
        "format": "harness.results", "schema_version": 2, "harness_version": "bench",
        "suite": {"name": "bench", "description": "simulated", "task": "binary",
                  "labels": [{"name": x, "display": x} for x in LABELS], "positive": "pos",
                  "metric_options": {"ece_bins": 10},
                  "dataset": {"path": "heldout.jsonl", "format": "openai-jsonl", "sha256": "0" * 64, "n_examples": n}},
        "baseline": "base",
        "metrics": [{"name": "accuracy", "title": "Accuracy", "description": "", "higher_is_better": True,
                     "needs_proba": False, "family": "accuracy", "plugin": "bench"}],
        "models": models, "training": {}, "predictions": {"path": "predictions.jsonl", "rows": len(preds)},
        "comparisons": {"alpha": 0.05, "n_resamples": 1000, "seed": 0, "correction": "holm", "pairs": pairs,
                        "mde": {"alpha": 0.0125, "rule": "alpha / 4"}},
        "verdict": {"version": 1, "alpha": 0.05, "primary_metric": "accuracy", "baseline": "base",
                    "candidate": "final", "headline": "Ship final (simulated).", "pairs": [], "selection": None},
    }
    return results, preds, texts


def main() -> None:
    sizes = [int(x) for x in sys.argv[1:]] or [1_000, 10_000, 100_000]
    budget = 5 * 1024 * 1024
    print(f"report of 5 binary models; budget {budget / 1e6:.1f} MB")
    print(f"{'examples':>9s} {'HTML bytes':>12s} {'of budget':>9s} {'render s':>9s} {'md s':>6s} {'rows shown':>10s}")
    for n in sizes:
        results, preds, texts = simulate(n)
        t0 = time.perf_counter()
        html = render_html(results, preds, texts=texts)
        t1 = time.perf_counter()
        render_markdown(results, preds, texts)
        t2 = time.perf_counter()
        size = len(html.encode("utf-8"))
        shown = html.count("<tr data-gold=")
        print(f"{n:9,d} {size:12,d} {size / budget:9.2f} {t1 - t0:9.2f} {t2 - t1:6.2f} {shown:10,d}")


if __name__ == "__main__":
    main()
