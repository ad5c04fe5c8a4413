"""Simulated runs for the gate's benchmark and its seeded tests: two binary classifiers scored on the same
examples, written as a real results.json + predictions.jsonl so the gate reads them exactly as it reads a
run of harness.

The setting of issue 12: each model is right on an example when its latent ``load·z + sqrt(1 - load²)·e_model``
exceeds a threshold set for its accuracy, with ``z`` shared by the two models and the ``e``'s independent
standard normals (``load = 0.6`` gives the issue's ``0.6·z + 0.8·e``: right/wrong outcomes correlated about
0.2). A model's probability of the label it is right about is ``Φ(1.5·(latent - threshold))``, so its
predicted label is the argmax and its AUROC follows its accuracy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.stats import norm

from harness import jsonio

LABELS = ("neg", "pos")


def simulate(rng: np.random.Generator, n: int, acc_reference: float, acc_candidate: float,
             load: float = 0.6) -> dict[str, np.ndarray]:
    """Gold labels and each model's predicted label and p(pos) (keys: gold, pred_<m>, p_<m>)."""
    gold = rng.integers(0, 2, n)
    z = rng.standard_normal(n)
    out = {"gold": gold}
    spread = np.sqrt(1.0 - load * load)
    for name, acc in (("reference", acc_reference), ("candidate", acc_candidate)):
        latent = load * z + spread * rng.standard_normal(n)
        margin = latent - norm.ppf(1.0 - acc)
        right = margin > 0
        p_right = norm.cdf(1.5 * margin)
        out[f"pred_{name}"] = np.where(right, gold, 1 - gold)
        out[f"p_{name}"] = np.where(gold == 1, p_right, 1.0 - p_right)
    return out


def write_run(folder: Path, sim: dict[str, np.ndarray], probabilities: bool = True,
              metrics: tuple[str, ...] = ("accuracy", "auroc")) -> Path:
    """A run folder (results.json, predictions.jsonl) with models ``reference`` (the run's baseline) and
    ``candidate``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    gold = sim["gold"]
    n = len(gold)
    ids = [f"ex{i}" for i in range(n)]
    lines = []
    models = []
    for name in ("reference", "candidate"):
        pred, p = sim[f"pred_{name}"], sim[f"p_{name}"]
        for i in range(n):
            lines.append(jsonio.dumps({
                "model": name, "id": ids[i], "gold": LABELS[gold[i]], "pred": LABELS[pred[i]], "status": "ok",
                "probs": {"neg": float(1.0 - p[i]), "pos": float(p[i])} if probabilities else None}))
        models.append({"name": name, "spec": "sim:" + name, "provider": "sim",
                       "counts": {"n": n, "ok": n, "invalid": 0, "failed": 0, "flagged": 0},
                       "metrics": {"accuracy": {"value": float(np.mean(pred == gold)), "n": n}}})
    (folder / "predictions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    digest = hashlib.sha256(gold.tobytes()).hexdigest()  # the same simulated data set ⇔ the same gold labels
    results = {
        "format": "harness.results", "schema_version": 1, "harness_version": "sim",
        "suite": {"name": "sim", "path": "", "task": "binary",
                  "labels": [{"name": lab, "display": lab} for lab in LABELS], "positive": "pos",
                  "metric_options": {}, "dataset": {"path": "sim", "format": "sim", "sha256": digest,
                                                    "n_examples": n}},
        "baseline": "reference",
        "metrics": [{"name": m, "higher_is_better": True, "plugin": "harness_plugins.metrics"} for m in metrics],
        "models": models, "training": {}, "predictions": {"path": "predictions.jsonl", "rows": 2 * n},
    }
    (folder / "results.json").write_text(json.dumps(results), encoding="utf-8")
    return folder


def cell_probabilities(acc_candidate: float, acc_reference: float, load: float) -> dict[str, float]:
    """The exact probabilities of the paired table in :func:`simulate`'s model: ``only_candidate`` (only the
    candidate right), ``only_reference``, and ``correlation`` (of the two models' right/wrong outcomes)."""
    from scipy.stats import multivariate_normal

    t_c, t_r, r = norm.ppf(1.0 - acc_candidate), norm.ppf(1.0 - acc_reference), load * load
    both = float(multivariate_normal(mean=[0, 0], cov=[[1, r], [r, 1]]).cdf([-t_c, -t_r]))
    a_c, a_r = acc_candidate, acc_reference
    corr = (both - a_c * a_r) / np.sqrt(a_c * (1 - a_c) * a_r * (1 - a_r))
    return {"only_candidate": a_c - both, "only_reference": a_r - both, "correlation": float(corr)}


def exact_accuracy_rates(n: int, acc_reference: float, acc_candidate: float, load: float,
                         decide: Callable[[np.ndarray, np.ndarray, int], np.ndarray]) -> float:
    """The probability that ``decide(x, y, n)`` (vectorised over tables: ``x`` examples only the candidate
    got right, ``y`` only the reference) fails the candidate, summed exactly over every paired table of
    :func:`simulate`'s model — no Monte Carlo noise."""
    from scipy.stats import binom

    cells = cell_probabilities(acc_candidate, acc_reference, load)
    share = cells["only_candidate"] + cells["only_reference"]
    theta = cells["only_candidate"] / share
    total = 0.0
    for n_d in range(1, n + 1):
        w = binom.pmf(n_d, n, share)
        if w < 1e-12:
            continue
        x = np.arange(n_d + 1)
        px = binom.pmf(x, n_d, theta)
        keep = px > 1e-14
        x, px = x[keep], px[keep]
        total += w * float(px[decide(x, n_d - x, n)].sum())
    return total
