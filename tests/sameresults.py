"""Same input, same results: suites written deterministically (predictions-provider models with every kind of
row: full probabilities, a label only, an invalid label, a missing id, rows rescaled under ``renormalize``,
CSV columns), and a field-by-field comparison of two results.json documents.

``tests/test_same_results.py`` runs these suites and compares the results with ``tests/data/same_results/``,
written by harness at commit 28a5890 — main without the performance work of issue 14 (efef40f, the release
before it, gave the same numbers but for what main changed since: ECE's closed-form inference, one MDE computation,
the selection note) — with
``python tests/sameresults.py write OUT`` (a harness of that commit on PATH). A change that moves a number
beyond floating-point summation order fails it.

Also a command: ``python tests/sameresults.py compare A/results.json B/results.json`` prints every difference.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SEP = "\n\n###\n\n"
WORDS = "puck goal pitcher inning skate rink bat glove ice season team fans score field".split()

#: results.json fields that differ between two runs of the same suite by design (clocks, paths, versions)
VOLATILE = {"created_at", "timings", "harness_version", "path", "seconds", "cache", "notices"}

REL_TOL = 1e-9
"""Floats agree to this relative tolerance (and ``ABS_TOL`` absolute): sums in a different order (BLAS kernels,
vectorised instead of scikit-learn's loops) differ in the last bits, never more."""
ABS_TOL = 1e-12


def _probs(rng: random.Random, gold: int, k: int, skill: float) -> list[float]:
    z = [rng.gauss(0, 1) + (skill if j == gold else 0.0) for j in range(k)]
    top = max(z)
    e = [math.exp(v - top) for v in z]
    s = sum(e)
    return [v / s for v in e]


def write_suite(root: Path, kind: str, csv_checkpoint: bool = True) -> Path:
    """A suite folder of one of :data:`KINDS` (``binary``: 3 models — one a CSV file unless not
    ``csv_checkpoint`` — and a validation split; ``multiclass``)."""
    rng = random.Random({"binary": 1, "multiclass": 2}[kind])
    labels = ["neg", "pos"] if kind == "binary" else ["billing", "shipping", "account"]
    n, n_val = (1500, 400) if kind == "binary" else (1200, 0)
    root.mkdir(parents=True, exist_ok=True)
    gold: dict[str, int] = {}  # held-out ids only: a predictions file may hold no other id
    for split, count in (("heldout", n), ("validation", n_val)):
        if not count:
            continue
        with (root / f"{split}.jsonl").open("w", encoding="utf-8") as fh:
            for i in range(count):
                ex = f"{split[0]}{i:05d}"
                g = rng.randrange(len(labels))
                if split == "heldout":
                    gold[ex] = g
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))) + f" #{ex}"
                fh.write(json.dumps({"id": ex, "prompt": text + SEP, "completion": " " + labels[g]}) + "\n")
    models = {"base": 0.6, "ft": 1.4, "ckpt": 1.1} if kind == "binary" else {"base": 0.8, "ft": 1.5}
    for m, skill in models.items():
        csv_file = kind == "binary" and m == "ckpt" and csv_checkpoint
        with (root / f"{m}.{'csv' if csv_file else 'jsonl'}").open("w", encoding="utf-8") as fh:
            if csv_file:
                fh.write("id,label," + ",".join(f"prob_{lab}" for lab in labels) + "\n")
            for ex, g in gold.items():
                r = rng.random()
                p = _probs(rng, g, len(labels), skill)
                label = labels[max(range(len(labels)), key=lambda j: p[j])]
                if m == "ft" and r < 0.01:
                    continue  # no prediction for this id: failed
                if kind == "binary" and m == "ckpt":
                    cells = ["" if r < 0.02 else repr(v) for v in p]
                    if csv_file:
                        fh.write(f"{ex},{'maybe' if 0.02 <= r < 0.03 else label}," + ",".join(cells) + "\n")
                    else:
                        row = {"id": ex, "label": "maybe" if 0.02 <= r < 0.03 else label}
                        if r >= 0.02:
                            row["probs"] = dict(zip(labels, p))
                        fh.write(json.dumps(row) + "\n")
                    continue
                row: dict[str, Any] = {"id": ex, "label": label, "probs": dict(zip(labels, p))}
                if m == "ft" and r < 0.03:
                    del row["probs"]  # a label only
                elif m == "ft" and r < 0.04:
                    row["label"] = "unsure"  # outside the label set: invalid
                elif m == "ft" and r < 0.05:
                    row["probs"] = {lab: v * 0.97 for lab, v in zip(labels, p)}  # renormalized (flagged)
                elif m == "ft" and r < 0.07:
                    row["probs"] = {lab: v * 0.996 for lab, v in zip(labels, p)}  # rounding: rescaled
                elif m == "base" and r < 0.05:
                    del row["label"]  # probabilities only: the label is the argmax
                fh.write(json.dumps(row) + "\n")
    files = {m: f"{m}.{'csv' if kind == 'binary' and m == 'ckpt' and csv_checkpoint else 'jsonl'}" for m in models}
    model_lines = "".join(f"  {m}:\n    provider: predictions\n    argument: {files[m]}\n"
                          + ("    options: {renormalize: true}\n" if m == "ft" else "") for m in models)
    extra = ("validation: validation.jsonl\n  " if n_val else "")
    text = (f"name: same-{kind}\ndata:\n  heldout: heldout.jsonl\n  {extra}format: openai-jsonl\n"
            f"labels: [{', '.join(labels)}]\n" + ("positive: pos\n" if kind == "binary" else "")
            + "models:\n" + model_lines + "baseline: base\n"
            + ("comparisons:\n  - [ft, ckpt]\nthresholds: {precision: 0.9}\n" if kind == "binary" else ""))
    (root / "suite.yaml").write_text(text, encoding="utf-8")
    return root


KINDS = ("binary", "multiclass")


def normalised(results: dict[str, Any]) -> dict[str, Any]:
    """``results`` without the fields that differ between runs by design (:data:`VOLATILE`)."""
    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items() if k not in VOLATILE}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v
    return walk(results)


def differences(a: Any, b: Any, where: str = "") -> Iterator[str]:
    """Every place two normalised results differ: floats beyond the tolerances, anything else at all."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None or isinstance(a, str):
        if a != b or type(a) is not type(b):
            yield f"{where or '.'}: {a!r} != {b!r}"
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            if a != b:
                yield f"{where}: {a} != {b}"
        elif not math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            yield f"{where}: {a!r} != {b!r} (beyond the tolerance)"
    elif isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            yield f"{where}: keys {list(a)} != {list(b)}"
        for k in a:
            if k in b:
                yield from differences(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{where}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            yield from differences(x, y, f"{where}[{i}]")
    else:
        yield f"{where}: {a!r} != {b!r} (types {type(a).__name__}, {type(b).__name__})"


def run_suite(harness: str, suite: Path, out: Path) -> dict[str, Any]:
    """``harness run SUITE --out OUT`` (no cache, no report), its results.json normalised."""
    subprocess.run([harness, "run", str(suite), "--out", str(out), "--no-cache", "--no-report"], check=True,
                   capture_output=True)
    return normalised(json.loads((out / "results.json").read_text(encoding="utf-8")))


def report_page(harness: str, out: Path) -> str:
    """The report of the run in ``out`` (``harness report``) with its clock fields fixed and its charts' SVG
    bodies left out: what the page says, to compare before and after."""
    path = out / "results.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["created_at"] = "2000-01-01T00:00:00+00:00"
    doc["harness_version"] = "0"
    doc["timings"] = {k: 1.0 for k in doc.get("timings", {})}
    doc["suite"]["path"] = "suite/suite.yaml"
    for m in doc.get("models", []):
        m["timing"] = {"seconds": 1.0}
    path.write_text(json.dumps(doc), encoding="utf-8")
    subprocess.run([harness, "report", str(path)], check=True, capture_output=True)
    page = (out / "report.html").read_text(encoding="utf-8")
    return re.sub(r"<svg\b.*?</svg>", "<svg/>", page, flags=re.S)


def main(argv: list[str]) -> int:
    if argv[:1] == ["write"] and len(argv) == 2:  # the golden files, from the harness on PATH
        out = Path(argv[1])
        out.mkdir(parents=True, exist_ok=True)
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            for kind in KINDS:
                suite = write_suite(Path(tmp) / kind, kind)
                res = run_suite("harness", suite, Path(tmp) / f"out-{kind}")
                (out / f"{kind}.results.json").write_text(json.dumps(res, indent=1, sort_keys=False) + "\n",
                                                          encoding="utf-8")
                import hashlib
                digest = hashlib.sha256((Path(tmp) / f"out-{kind}" / "predictions.jsonl").read_bytes()).hexdigest()
                (out / f"{kind}.predictions.sha256").write_text(digest + "\n", encoding="utf-8")
                page = report_page("harness", Path(tmp) / f"out-{kind}")
                (out / f"{kind}.report.html.gz").write_bytes(gzip.compress(page.encode("utf-8"), mtime=0))
        return 0
    if argv[:1] == ["compare"] and len(argv) == 3:
        a, b = (normalised(json.loads(Path(p).read_text(encoding="utf-8"))) for p in argv[1:])
        diffs = list(differences(a, b))
        print("\n".join(diffs) or "same results (within the float tolerances)")
        return 1 if diffs else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
