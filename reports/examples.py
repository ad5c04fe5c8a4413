"""The examples behind the numbers: the held-out examples where the models disagree (each comparison's fixed
and broken examples: A right where B was wrong, or the reverse), and each model's most confident errors.

The texts come from ``examples.jsonl`` (written by the run beside results.json); they are untrusted data and
the templates escape them. For big sets the page embeds at most ``MAX_ROWS`` disagreements, chosen without
looking at anything but the flips and the confidence: an equal share of the candidate's broken, fixed and
other disagreements (unused share passed on), the most confident first in each — and says how many of how
many are shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .charts import Style

Row = dict[str, Any]
MAX_ROWS = 600
TEXT_CHARS = 280
ERRORS_PER_MODEL = 5
KINDS = ("broken", "fixed", "other")


def _matrix(groups: Mapping[str, Sequence[Row]], models: Sequence[str], ids: Sequence[str], labels: Sequence[str]
            ) -> tuple[np.ndarray, np.ndarray]:
    """(predicted label index per example and model, -1 = none; probability of that label, NaN = none)."""
    index = {lab: i for i, lab in enumerate(labels)}
    where = {i: k for k, i in enumerate(ids)}
    pred = np.full((len(ids), len(models)), -1, dtype=np.int64)
    conf = np.full((len(ids), len(models)), np.nan)
    for j, m in enumerate(models):
        for r in groups[m]:
            k = where.get(r.get("id"))
            p = r.get("pred")
            if k is None or p not in index:
                continue
            pred[k, j] = index[p]
            probs = r.get("probs")
            if isinstance(probs, dict):
                v = probs.get(p)
                if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v):
                    conf[k, j] = float(v)
    return pred, conf


def _pick(kind: np.ndarray, score: np.ndarray, cap: int) -> np.ndarray:
    """Indices (into the disagreements) to embed: equal shares per kind, most confident first."""
    if kind.size <= cap:
        return np.arange(kind.size)
    groups = [np.flatnonzero(kind == k) for k in range(len(KINDS))]
    groups = [g[np.argsort(-score[g], kind="stable")] for g in groups]
    take = [0] * len(groups)
    left = cap
    while left > 0:
        open_ = [i for i, g in enumerate(groups) if take[i] < g.size]
        if not open_:
            break
        share = max(1, left // len(open_))
        for i in open_:
            add = min(share, groups[i].size - take[i], left)
            take[i] += add
            left -= add
    return np.sort(np.concatenate([g[:t] for g, t in zip(groups, take)]))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"


def examples_section(groups: Mapping[str, Sequence[Row]], labels: Sequence[Mapping[str, str]],
                     texts: Mapping[str, str], pairs: Sequence[tuple[str, str]], candidate: str | None,
                     baseline: str | None, styles: Mapping[str, Style], cap: int = MAX_ROWS) -> dict[str, Any] | None:
    models = [m for m, rows in groups.items() if rows]
    if len(models) < 2:
        return None
    names = [lab["name"] for lab in labels]
    display = [lab["display"] for lab in labels]
    ids = [str(r.get("id")) for r in groups[models[0]]]
    gold_index = {lab: i for i, lab in enumerate(names)}
    gold = np.array([gold_index.get(r.get("gold"), -1) for r in groups[models[0]]], dtype=np.int64)
    pred, conf = _matrix(groups, models, ids, names)
    correct = pred == gold[:, None]
    pairs = [(a, b) for a, b in pairs if a in models and b in models]
    col = {m: j for j, m in enumerate(models)}
    flips = np.zeros((len(ids), len(pairs)), dtype=np.int8)  # 0 none, 1 fixed, 2 broken
    for p, (a, b) in enumerate(pairs):
        ca, cb = correct[:, col[a]], correct[:, col[b]]
        flips[ca & ~cb, p] = 1
        flips[~ca & cb, p] = 2
    disagree = np.flatnonzero((pred != pred[:, :1]).any(axis=1) | (flips > 0).any(axis=1))
    main = next((i for i, (a, b) in enumerate(pairs) if a == candidate and b == baseline), 0)
    cand = col.get(candidate or "", col[models[-1]])
    score = np.nan_to_num(conf[disagree, cand], nan=-1.0)
    kind = np.full(disagree.size, 2)
    if pairs:
        f = flips[disagree, main]
        kind = np.where(f == 2, 0, np.where(f == 1, 1, 2))
    chosen = disagree[_pick(kind, score, cap)]
    chosen = chosen[np.argsort(-np.nan_to_num(conf[chosen, cand], nan=-1.0), kind="stable")]
    flip_word = {0: "", 1: "fixed", 2: "broken"}
    rows = []
    for k in chosen.tolist():
        rows.append({"id": ids[k], "text": _short(texts.get(ids[k], "")), "has_text": ids[k] in texts,
                     "gold": display[gold[k]] if gold[k] >= 0 else "",
                     "gold_name": names[gold[k]] if gold[k] >= 0 else "",
                     "conf": f"{conf[k, cand]:.4f}" if np.isfinite(conf[k, cand]) else "-1",
                     "flips": [flip_word[int(x)] for x in flips[k]],
                     "cells": [{"label": display[pred[k, j]] if pred[k, j] >= 0 else "invalid/failed",
                                "prob": f"{conf[k, j]:.2f}" if np.isfinite(conf[k, j]) else "",
                                "correct": bool(correct[k, j])} for j in range(len(models))]})
    counts = {KINDS[i]: int(np.sum(kind == i)) for i in range(len(KINDS))} if pairs else {}
    return {"models": [{"name": m, "style": styles.get(m)} for m in models], "rows": rows,
            "pairs": [{"a": a, "b": b, "index": i, "main": i == main} for i, (a, b) in enumerate(pairs)],
            "shown": len(rows), "total": int(disagree.size), "n": len(ids), "counts": counts,
            "candidate": models[cand], "labels": [{"name": n, "display": d} for n, d in zip(names, display)],
            "has_texts": bool(texts), "capped": len(rows) < disagree.size, "cap": cap,
            "errors": _confident_errors(models, ids, texts, gold, pred, conf, display, styles)}


def _confident_errors(models: Sequence[str], ids: Sequence[str], texts: Mapping[str, str], gold: np.ndarray,
                      pred: np.ndarray, conf: np.ndarray, display: Sequence[str], styles: Mapping[str, Style]
                      ) -> list[dict[str, Any]]:
    out = []
    for j, m in enumerate(models):
        wrong = np.flatnonzero((pred[:, j] >= 0) & (pred[:, j] != gold) & np.isfinite(conf[:, j]))
        top = wrong[np.argsort(-conf[wrong, j], kind="stable")[:ERRORS_PER_MODEL]]
        out.append({"model": m, "style": styles.get(m), "total": int(wrong.size), "rows": [
            {"id": ids[k], "text": _short(texts.get(ids[k], "")), "gold": display[gold[k]] if gold[k] >= 0 else "",
             "pred": display[pred[k, j]], "prob": f"{conf[k, j]:.3f}"} for k in top.tolist()]})
    return out
