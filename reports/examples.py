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
from .modelrows import ModelRows, as_model_rows

Row = dict[str, Any]
MAX_ROWS = 600
TEXT_CHARS = 280
ERRORS_PER_MODEL = 5
KINDS = ("broken", "fixed", "other")


def _matrix(groups: Mapping[str, ModelRows], models: Sequence[str], ids: Sequence[str]
            ) -> tuple[np.ndarray, np.ndarray]:
    """(predicted label index per example and model, -1 = none; probability of that label, NaN = none), each
    model's rows matched to ``ids`` by their id."""
    pred = np.full((len(ids), len(models)), -1, dtype=np.int64)
    conf = np.full((len(ids), len(models)), np.nan)
    unique = len(set(ids)) == len(ids)
    where: dict[str, int] | None = None
    for j, m in enumerate(models):
        rows = groups[m]
        if unique and list(rows.ids) == list(ids):  # the same examples in the same order (a run's rows are)
            has = rows.pred >= 0
            pred[has, j] = rows.pred[has]
            conf[has, j] = rows.conf[has]
            continue
        if where is None:
            where = {i: k for k, i in enumerate(ids)}
        for r, rid in enumerate(rows.ids):  # row by row: a later row of an id overwrites an earlier one
            k = where.get(rid)
            if k is None or rows.pred[r] < 0:
                continue
            pred[k, j] = rows.pred[r]
            if not np.isnan(rows.conf[r]):
                conf[k, j] = rows.conf[r]
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


def examples_section(groups: Mapping[str, ModelRows | Sequence[Row]], labels: Sequence[Mapping[str, str]],
                     texts: Mapping[str, str], pairs: Sequence[tuple[str, str]], candidate: str | None,
                     baseline: str | None, styles: Mapping[str, Style], cap: int = MAX_ROWS) -> dict[str, Any] | None:
    names = [lab["name"] for lab in labels]
    rows_of = {m: as_model_rows(rows, names) for m, rows in groups.items()}
    models = [m for m, rows in rows_of.items() if rows]
    if len(models) < 2:
        return None
    display = [lab["display"] for lab in labels]
    first = rows_of[models[0]]
    ids = [i if isinstance(i, str) else str(i) for i in first.ids]
    gold = first.gold
    pred, conf = _matrix(rows_of, models, ids)
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
