"""What the embeddings baselines cost at scale: memory of the vectors, and the time to fit and to score, for
logistic regression (C by cross-validation) and zero-shot, at 10,000 and 100,000 examples of 1,536 dimensions
(text-embedding-3-small's size).

    python benchmarks/bench_embeddings.py                          # 10,000 and 100,000 examples, 1,536 dims
    python benchmarks/bench_embeddings.py --sizes 10000 --dims 256 # quicker

Each size runs in a fresh process (its peak memory is its own): ``n`` examples, 80% training split and 20%
held-out, five classes, random unit vectors leaning towards their class, stored as the provider stores them —
one float32 matrix (:class:`Matrix`), the training rows a view of it. The same process measures its baselines,
so other load on the machine affects both alike: the fit against one plain ``LogisticRegression(C=1)`` fit on
the same rows (the cross-validation on a sample of at most 10,000 costs a few of those), the peak memory against
the matrix's own size, and the reading of vectors from cached responses (base64 decoded into the matrix) per
10,000 rows.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def one(n: int, dims: int, seed: int = 0) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression

    from harness_plugins.providers.embeddings.classify import fit_logistic, fit_zero_shot
    from harness_plugins.providers.embeddings.vectors import Matrix, encode, response_vectors

    rng = np.random.default_rng(seed)
    labels = ["billing", "shipping", "technical", "account", "returns"]
    centers = rng.standard_normal((len(labels), dims)).astype(np.float32)
    y_all = rng.integers(0, len(labels), n)
    before = rss_mb()
    matrix = Matrix(n, "bench")
    for start in range(0, n, 8192):  # filled block by block, as the provider does
        idx = y_all[start:start + 8192]
        block = rng.standard_normal((len(idx), dims), dtype=np.float32) + 0.08 * centers[idx]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        matrix.put_block(start, block)
    assert matrix.data is not None
    n_train = int(n * 0.8)
    X_train, X_held = matrix.data[:n_train], matrix.data[n_train:]  # views
    y_train = [labels[i] for i in y_all[:n_train]]

    sample = [{"data": [{"index": 0, "embedding": encode(v)}]} for v in matrix.data[:2000]]
    t = time.perf_counter()
    for row, response in enumerate(sample):
        (vec,) = response_vectors(response, 1, "bench")
        matrix.put(row, vec)  # type: ignore[arg-type]
    read_10k = (time.perf_counter() - t) * 10_000 / len(sample)
    del sample

    t = time.perf_counter()
    plain = LogisticRegression(C=1.0, max_iter=1000).fit(X_train, y_train)
    plain_fit = time.perf_counter() - t
    del plain
    t = time.perf_counter()
    fitted = fit_logistic(X_train, y_train, labels, C=None, folds=5, sample=10_000, seed=0)
    fit = time.perf_counter() - t
    t = time.perf_counter()
    proba = fitted.predict_proba(X_held)
    score = time.perf_counter() - t
    assert np.allclose(proba.sum(axis=1), 1.0)
    accuracy = float(np.mean(np.array(fitted.classes)[proba.argmax(axis=1)] ==
                             np.array([labels[i] for i in y_all[n_train:]])))

    label_vectors = centers / np.linalg.norm(centers, axis=1, keepdims=True)
    t = time.perf_counter()
    zs = fit_zero_shot(label_vectors, labels, labels, temperature=None, X_train=X_train, y_train=y_train)
    zs_fit = time.perf_counter() - t
    t = time.perf_counter()
    zs.predict_proba(X_held)
    zs_score = time.perf_counter() - t
    return {"n": n, "dims": dims, "matrix_mb": matrix.nbytes / 2**20, "peak_mb": rss_mb() - before,
            "read_10k": read_10k, "plain_fit": plain_fit, "fit": fit, "score": score, "C": fitted.info["C"],
            "accuracy": accuracy, "zs_fit": zs_fit, "zs_score": zs_score, "zs_T": zs.temperature or 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dims", type=int, default=1536)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.dims)))
        return
    for n in args.sizes:
        proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--dims", str(args.dims)],
                              capture_output=True, text=True, check=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{n:,} examples ({int(n * 0.8):,} training, {n - int(n * 0.8):,} held-out), {args.dims:,} dimensions: "
              f"vectors {r['matrix_mb']:,.0f} MB (float32, one matrix)")
        print(f"  memory: peak +{r['peak_mb']:,.0f} MB = {r['peak_mb'] / r['matrix_mb']:.2f}x the vectors")
        print(f"  reading cached vectors: {r['read_10k']:.2f} s per 10,000")
        print(f"  logistic: fit {r['fit']:.1f} s (C={r['C']:g} by 5-fold cross-validation on "
              f"{min(10_000, int(n * 0.8)):,}, then refit) = {r['fit'] / r['plain_fit']:.1f}x one plain fit "
              f"({r['plain_fit']:.1f} s); score {r['score']:.2f} s; accuracy {r['accuracy']:.3f}")
        print(f"  zero-shot: fit {r['zs_fit']:.2f} s (temperature {r['zs_T']:.3g}); score {r['zs_score']:.2f} s")


if __name__ == "__main__":
    main()
