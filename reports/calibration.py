"""Calibration you can act on: would temperature scaling fix a model's miscalibration?

For each model with probabilities: the debiased calibration error (the ``ece`` metric's estimator) and a
chi-square test of perfect calibration over the same bins, before and after temperature scaling. The
temperature is fitted on the validation split's predictions when the run has them (then applied to the
held-out set), else by 5-fold cross-validation on the held-out set (each fold scaled with a temperature
fitted on the other four), so the "after" numbers are never judged on the examples that fitted them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from harness.stats.calibration import calibration_bins, debiased_calibration_error
from harness.stats.temperature import calibration_p_value, cross_validated, fit_temperature, scale

from . import tables
from .charts import Style
from .modelrows import ModelRows

Row = dict[str, Any]
LEVEL = 0.05


def _log_loss(p: np.ndarray, gold: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(p[np.arange(len(gold)), gold], 1e-15, 1.0))))


def _summary(p: np.ndarray, gold: np.ndarray, n_bins: int) -> dict[str, float]:
    conf = np.clip(p.max(axis=1), 0.0, 1.0)
    correct = p.argmax(axis=1) == gold
    return {"ece": debiased_calibration_error(conf, correct, n_bins), "p": calibration_p_value(conf, correct, n_bins),
            "log_loss": _log_loss(p, gold), "overconfident": float(np.mean(conf) - np.mean(correct))}


def advice(before: dict[str, float], after: dict[str, float], temperature: float) -> tuple[str, str]:
    """(kind, sentence): ok / fixes / reduces / no-help."""
    direction = "over-confident" if temperature > 1 else "under-confident"
    if before["p"] >= LEVEL:
        return "ok", (f"consistent with perfect calibration (p = {before['p']:.3f}): nothing to fix")
    if after["p"] >= LEVEL:
        return "fixes", (f"miscalibrated (p = {before['p']:.2g}), {direction}: temperature scaling with T = "
                         f"{temperature:.2f} would fix it — ECE {before['ece']:.3f} → {after['ece']:.3f}, consistent "
                         f"with perfect calibration afterwards (p = {after['p']:.3f})")
    if after["ece"] < before["ece"] - 1e-9:
        return "reduces", (f"miscalibrated (p = {before['p']:.2g}): temperature scaling (T = {temperature:.2f}) would "
                           f"reduce it (ECE {before['ece']:.3f} → {after['ece']:.3f}) but not fix it (still "
                           f"p = {after['p']:.2g}): the errors are not a uniform over- or under-confidence; try "
                           "histogram binning or isotonic regression on a validation split")
    return "no-help", (f"miscalibrated (p = {before['p']:.2g}); temperature scaling would not help (ECE "
                       f"{before['ece']:.3f} → {after['ece']:.3f})")


def temperature_section(groups: Mapping[str, ModelRows | list[Row]], labels: Sequence[str], n_bins: int,
                        styles: dict[str, Style], validation: Mapping[str, ModelRows | list[Row]] | None = None
                        ) -> dict[str, Any] | None:
    rows = []
    for model, mrows in groups.items():
        gold, probs = tables._prob_matrix(mrows, labels)
        if len(gold) < 10:
            continue
        probs = probs / probs.sum(axis=1, keepdims=True)
        vgold, vprobs = tables._prob_matrix((validation or {}).get(model) or [], labels)
        if len(vgold) >= 10:
            t = fit_temperature(vprobs / vprobs.sum(axis=1, keepdims=True), vgold)
            scaled, how = scale(probs, t), f"fitted on the validation split ({len(vgold):,} examples)"
        else:
            scaled, temps = cross_validated(probs, gold, 5)
            t = float(np.median(temps))
            how = "5-fold cross-validation on the held-out set"
        before, after = _summary(probs, gold, n_bins), _summary(scaled, gold, n_bins)
        kind, sentence = advice(before, after, t)
        rows.append({"model": model, "style": styles.get(model), "temperature": t, "how": how, "kind": kind,
                     "sentence": sentence, "before": before, "after": after, "n": len(gold)})
    return {"rows": rows, "level": LEVEL} if rows else None


def bin_table(rows: ModelRows | Sequence[Row], labels: Sequence[str], n_bins: int) -> list[dict[str, Any]]:
    """Per bin: its range, how many examples, mean confidence, accuracy (the numbers behind a diagram)."""
    gold, probs = tables._prob_matrix(rows, labels)
    if len(gold) == 0:
        return []
    probs = probs / probs.sum(axis=1, keepdims=True)
    conf = np.clip(probs.max(axis=1), 0.0, 1.0)
    correct = probs.argmax(axis=1) == gold
    idx = calibration_bins(conf, n_bins)
    counts = np.bincount(idx, minlength=n_bins)
    acc = np.bincount(idx, weights=correct.astype(float), minlength=n_bins)
    mc = np.bincount(idx, weights=conf, minlength=n_bins)
    edges = np.linspace(0, 1, n_bins + 1)
    return [{"range": f"({edges[j]:.2f}, {edges[j + 1]:.2f}]", "n": int(counts[j]),
             "confidence": mc[j] / counts[j] if counts[j] else None,
             "accuracy": acc[j] / counts[j] if counts[j] else None}
            for j in range(n_bins)]
