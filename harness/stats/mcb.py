"""Which models cannot be told apart from the best? Multiple comparisons with the best (MCB) on paired
bootstrap draws.

References:
    J. C. Hsu (1984). Constrained simultaneous confidence intervals for multiple comparisons with the best.
    Annals of Statistics 12, 1136-1144.

    J. C. Hsu (1996). Multiple Comparisons: Theory and Methods, ch. 4 (MCB; the subset of models that may
    be the best, Gupta's subset selection as its special case).

    P. R. Hansen, A. Lunde, J. M. Nason (2011). The model confidence set. Econometrica 79, 453-497 (the
    studentised max statistic with a bootstrap null, used here one model at a time).

Every model was scored on the same examples, and ``draws[b, i]`` is model ``i``'s metric on bootstrap
resample ``b`` (the same resample for every model, so the draws carry the pairing). Model ``i`` stays in
the set unless some other model is shown better than it: with ``d_ji = value_j - value_i`` (oriented so
that positive means ``j`` is better) and ``se_ji`` the bootstrap standard deviation of ``d_ji``,

    T_i = max_j d_ji / se_ji,      c_i = the (1 - alpha) quantile of max_j (d*_ji - d_ji) / se_ji,

and ``i`` is excluded when ``T_i > c_i``. ``c_i`` is a one-sided Dunnett-type critical value (Hsu's MCB)
taken from the joint bootstrap distribution of the ``k - 1`` differences, so the correlation between them
is used rather than a Bonferroni bound. The truly best model ``b`` has ``d_jb <= 0`` for every ``j``, so it
is excluded only when the max statistic exceeds its own (1 - alpha) quantile: the set contains the best
model with probability about ``1 - alpha`` or more (``benchmarks/bench_best_set.py`` measures it).
``p_value`` of a model is the bootstrap p-value of "this model is the best": the smallest alpha at which it
would be excluded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import check_alpha

__all__ = ["BestSet", "best_set"]


@dataclass(frozen=True)
class BestSet:
    """The models (indices) that cannot be distinguished from the best, and each model's statistics."""

    members: tuple[int, ...]          # indices in the set, in input order
    best: int                         # the model with the best point value (first on ties)
    statistic: NDArray[np.float64]    # T_i (-inf when no other model differs from i on any resample)
    critical: NDArray[np.float64]     # c_i
    p_value: NDArray[np.float64]      # of "model i is the best"
    n_resamples: int                  # resamples used (those where every model's metric is defined)


def _order_stat(values: NDArray[np.float64], q: float) -> float:
    """The ``ceil(q·(B+1))``-th smallest value (the largest when that rank exceeds B)."""
    b = values.size
    rank = min(b, max(1, math.ceil(q * (b + 1))))
    return float(np.partition(values, rank - 1)[rank - 1])


def best_set(values: ArrayLike, draws: ArrayLike, alpha: float = 0.05, higher_is_better: bool = True) -> BestSet:
    """The MCB subset of ``k`` models given their observed ``values`` (k,) and paired bootstrap ``draws``
    (B, k). Resamples where any model's metric is undefined (NaN) are dropped."""
    check_alpha(alpha)
    sign = 1.0 if higher_is_better else -1.0
    v = sign * np.asarray(values, dtype=float)
    d = sign * np.asarray(draws, dtype=float)
    if v.ndim != 1 or d.ndim != 2 or d.shape[1] != v.size:
        raise ValueError(f"values must be (k,) and draws (B, k); got {v.shape} and {d.shape}")
    if not np.isfinite(v).all():
        raise ValueError("every model needs a finite observed value")
    d = d[np.isfinite(d).all(axis=1)]
    k, b = v.size, d.shape[0]
    if k == 0:
        raise ValueError("no models")
    stat = np.full(k, -np.inf)
    crit = np.full(k, np.inf)
    pval = np.ones(k)
    if k > 1 and b >= 2:
        for i in range(k):
            others = np.arange(k) != i
            obs = v[others] - v[i]                       # > 0: that model looks better than i
            boot = d[:, others] - d[:, [i]]
            se = boot.std(axis=0, ddof=1)
            ok = se > 1e-12 * max(1.0, float(np.abs(v).max()))
            if not ok.any():
                continue                                 # identical to every other model on every resample
            t_obs = float(np.max(obs[ok] / se[ok]))
            null = np.max((boot[:, ok] - obs[ok]) / se[ok], axis=1)
            stat[i] = t_obs
            crit[i] = _order_stat(null, 1.0 - alpha)
            pval[i] = float((1 + np.count_nonzero(null >= t_obs - 1e-12)) / (b + 1))
    members = tuple(int(i) for i in range(k) if not stat[i] > crit[i])
    best = int(np.argmax(v))
    if best not in members:  # cannot happen (its statistic is <= 0 <= a centred quantile), kept as a guard
        members = tuple(sorted({*members, best}))
    return BestSet(members, best, stat, crit, pval, b)
