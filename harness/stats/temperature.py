"""Temperature scaling (Guo et al. 2017, "On calibration of modern neural networks"): divide the log
probabilities by one number ``T`` fitted to minimise the log loss, and renormalise. It changes no predicted
label (argmax is unchanged), only how confident the model is — so it is the cheapest fix for a model that is
uniformly over- or under-confident.

* :func:`fit_temperature` — ``T`` by Newton's method on ``beta = 1/T`` (the log loss is convex in ``beta``).
* :func:`scale` — probabilities at a temperature.
* :func:`cross_validated` — out-of-fold scaled probabilities: each fold scaled with ``T`` fitted on the other
  folds, so judging the fix on them is honest when no separate validation split exists.
* :func:`calibration_p_value` — a chi-square test of perfect calibration over the confidence bins (the Wald
  statistic ``sum_j gbar_j² / (s_j²/n_j)``, bins with at least 2 examples), to say whether a model, scaled or
  not, is distinguishable from calibrated.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .calibration import _bin_moments, gaps_by_bin

FloatArray = NDArray[np.float64]
CLIP = 1e-15
BETA_RANGE = (1e-3, 1e3)

__all__ = ["calibration_p_value", "cross_validated", "fit_temperature", "scale"]


def _logits(probs: ArrayLike) -> FloatArray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError("probs must be (n, k) with k >= 2")
    return np.log(np.clip(p, CLIP, 1.0))


def _softmax(z: FloatArray) -> FloatArray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(probs: ArrayLike, gold: ArrayLike, max_iter: int = 50) -> float:
    """The temperature ``T`` minimising the mean log loss of ``scale(probs, T)`` against ``gold`` (indices)."""
    z = _logits(probs)
    y = np.asarray(gold, dtype=np.int64)
    if y.shape != (z.shape[0],) or z.shape[0] == 0:
        raise ValueError("gold must hold one class index per row (and there must be rows)")
    zy = z[np.arange(z.shape[0]), y]
    beta = 1.0
    lo, hi = BETA_RANGE
    p, pz = np.empty_like(z), np.empty_like(z)  # reused: a million rows, no fresh arrays per step
    for _ in range(max_iter):
        np.multiply(beta, z, out=p)  # the softmax of beta * z, in place (the same operations as _softmax)
        np.subtract(p, p.max(axis=1, keepdims=True), out=p)
        np.exp(p, out=p)
        np.divide(p, p.sum(axis=1, keepdims=True), out=p)
        np.multiply(p, z, out=pz)
        mean = pz.sum(axis=1)
        grad = float(np.mean(mean - zy))
        np.multiply(pz, z, out=pz)  # p * z * z
        hess = float(np.mean(pz.sum(axis=1) - mean * mean))
        if grad > 0:  # the minimum lies at a smaller beta
            hi = beta
        else:
            lo = beta
        new = beta - grad / hess if hess > 1e-12 else np.nan
        if not (np.isfinite(new) and lo < new < hi):  # safeguard: bisect the bracket (geometrically)
            new = float(np.sqrt(lo * hi))
        if abs(new - beta) <= 1e-10 * max(1.0, beta):
            beta = float(new)
            break
        beta = float(new)
    return float(1.0 / beta)


def scale(probs: ArrayLike, temperature: float) -> FloatArray:
    return _softmax(_logits(probs) / float(temperature))


def cross_validated(probs: ArrayLike, gold: ArrayLike, folds: int = 5) -> tuple[FloatArray, list[float]]:
    """(out-of-fold scaled probabilities, the temperature of each fold). Folds are interleaved rows
    (row ``i`` in fold ``i mod folds``): deterministic, and balanced whatever the file's order."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(gold, dtype=np.int64)
    n = p.shape[0]
    folds = max(2, min(folds, n))
    fold = np.arange(n) % folds
    out = np.empty_like(p)
    temps = []
    for f in range(folds):
        test = fold == f
        t = fit_temperature(p[~test], y[~test])
        temps.append(t)
        out[test] = scale(p[test], t)
    return out, temps


def calibration_p_value(confidence: ArrayLike, correct: ArrayLike, n_bins: int = 10) -> float:
    """p-value of "perfectly calibrated" (every bin's mean gap 0) from the chi-square Wald statistic."""
    bins, gaps = gaps_by_bin(confidence, correct, n_bins)
    counts, s1, s2 = _bin_moments(bins, gaps, n_bins)
    ok = counts >= 2
    if not ok.any():
        return 1.0
    c = counts[ok]
    mean = s1[ok] / c
    var = np.maximum(s2[ok] - c * mean * mean, 0.0) / (c - 1.0)
    se2 = var / c
    if np.any((se2 == 0) & (mean != 0)):
        return 0.0
    x2 = float(np.sum(np.where(se2 > 0, mean ** 2 / np.where(se2 > 0, se2, 1.0), 0.0)))
    from .special import chdtrc

    return float(chdtrc(int(ok.sum()), x2))
